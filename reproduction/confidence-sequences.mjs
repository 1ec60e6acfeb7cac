// Lower confidence sequences for a Bernoulli mean p (issue 23's open idea), to weigh against the sequential
// certifier's union-bound Clopper–Pearson sequence in simulation (reproduction/simulate-cs.mjs). Proofs:
// docs/certificates.md, "Tighter confidence sequences (simulation only)".
//
// Both are *lower* sequences: with probability ≥ 1 − α over the whole infinite stream, L_t ≤ p at every t at once
// (so the running max over any checks, and any stopping time, is valid). Both come from a nonnegative
// (super)martingale M_t(p0) with M_0 ≤ 1 and Ville's inequality P(∃t: M_t(p) ≥ 1/α) ≤ α; L_t is the end of the set
// of boundaries p0 that the process rejects, found by bisection. Each M_t(p0) is non-increasing in p0 on the range
// searched, so the rejected set is an interval [0, c); bisection keeps `lo` only where the computed log M_t(lo)
// exceeds log(1/α) by more than a bound on its floating-point error, so the returned L ≤ c (rounded the safe way).
//
// (a) mixtureLower: Robbins' one-sided beta-binomial mixture. For H0: p ≤ p0 against q ≥ p0,
//     M_t(p0) = ∫_{[p0,1]} Π_i (q/p0)^{X_i} ((1−q)/(1−p0))^{1−X_i} dπ(q),  π = Beta(a, b) restricted (not
//     renormalised) to [p0, 1]. Under any p ≤ p0 each factor has mean p·q/p0 + (1−p)(1−q)/(1−p0) ≤ 1 for q ≥ p0,
//     so M_t is a nonnegative supermartingale with M_0 = π([p0,1]) ≤ 1. Closed form (conjugacy):
//     M_t(p0) = B(S+a, F+b)/B(a, b) · (1 − I_{p0}(S+a, F+b)) / (p0^S (1−p0)^F),  S successes, F failures.
// (b) bettingLower: Waudby-Smith & Ramdas (2023), "Estimating means of bounded random variables by betting"
//     (JRSS-B 86(1)), the capital process K_t(m) = Π_i (1 + λ_i(m)(X_i − m)) with predictable plug-in bets
//     λ_i(m) = min(λ̃_i, c/m), λ̃_i = sqrt(2 log(1/α) / (σ̂²_{i−1} · i · log(1 + i))) (their PrPl rate), one-sided
//     (the hedged process with θ = 1: only the K⁺ half, all of α, since only a lower bound is needed). Under p = m
//     it is a nonnegative martingale (1 − λm ≥ 1 − c > 0), K_0 = 1. Here λ̃ is held constant over blocks of
//     samples and set from the samples before the block (still predictable), so K_t(m) is a product over blocks.
//     With λ̃ free of m, each factor is non-increasing in m (X = 1: 1 + λ(1 − m); X = 0: 1 − min(λ̃m, c)).

/** ln Γ(x), x > 0 (Lanczos, g = 7, 9 terms; relative error ≲ 1e-15). */
export function logGamma(x) {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const y = x - 1;
  let s = c[0];
  for (let i = 1; i < 9; i++) s += c[i] / (y + i);
  const t = y + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Continued fraction of the incomplete beta (modified Lentz; Numerical Recipes' betacf). */
function betaContinuedFraction(x, a, b) {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) return h;
  }
  throw new Error(`incomplete beta did not converge at x ${x}, a ${a}, b ${b}`);
}

/** ln(1 − I_x(a, b)): the log upper tail of Beta(a, b) above x, 0 < x < 1. */
export function logBetaUpperTail(x, a, b) {
  const logFront = (z, p, q) => p * Math.log(z) + q * Math.log1p(-z) - (logGamma(p) + logGamma(q) - logGamma(p + q));
  const y = 1 - x; // 1 − I_x(a, b) = I_y(b, a)
  if (y < (b + 1) / (a + b + 2)) return logFront(y, b, a) + Math.log(betaContinuedFraction(y, b, a) / b);
  const lower = Math.exp(logFront(x, a, b)) * (betaContinuedFraction(x, a, b) / a); // I_x(a, b), small here
  return Math.log1p(-lower);
}

/** log M_t(p0) of the one-sided beta-binomial mixture (see the header), with a bound on its rounding error. */
export function mixtureLogM(S, n, p0, a, b) {
  const F = n - S;
  const lg = [logGamma(S + a), logGamma(F + b), logGamma(n + a + b), logGamma(a), logGamma(b), logGamma(a + b)];
  const logB = lg[0] + lg[1] - lg[2] - (lg[3] + lg[4] - lg[5]);
  const tail = logBetaUpperTail(p0, S + a, F + b);
  const like = S * Math.log(p0) + (F === 0 ? 0 : F * Math.log1p(-p0));
  const value = logB + tail - like;
  // Lanczos and the continued fraction are accurate to ~1e-15 relative; the guard is 1 000× that on every term.
  const error = 1e-12 * (lg.reduce((s, v) => s + Math.abs(v), 0) + Math.abs(tail) + Math.abs(like) + 1) + 1e-10;
  return { value, error };
}

/**
 * Lower end of the one-sided beta-binomial mixture confidence sequence after S successes in n trials, level α,
 * prior Beta(a, b): the largest p0 (rounded down) such that every boundary below it is rejected, M_n(p0) ≥ 1/α.
 * M_n(p0) is decreasing in p0 on (0, S/n] (the integrand (q/p0)^S((1−q)/(1−p0))^F falls with p0 there and the
 * range [p0, 1] shrinks), so the search stays in [0, S/n].
 */
export function mixtureLower(S, n, alpha, a = 1, b = 1) {
  if (S === 0) return 0;
  const target = -Math.log(alpha);
  const rejects = (p0) => {
    const { value, error } = mixtureLogM(S, n, p0, a, b);
    return value - error >= target;
  };
  let lo = 0;
  let hi = S / n;
  if (hi < 1 && rejects(hi)) return hi; // every p0 ≤ S/n is rejected (monotone); S/n itself is a safe end
  for (let i = 0; i < 60 && hi - lo > 1e-15; i++) {
    const mid = (lo + hi) / 2;
    if (rejects(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The betting capital process of one stream, for a one-sided lower confidence sequence (see the header). Feed it
 * blocks of samples with `add(k, s)` (k samples, s successes); the bet of a block is set from the samples before
 * it. `lower()` is the current L_t.
 */
export class BettingLower {
  constructor(alpha, cap = 0.75) {
    this.alpha = alpha;
    this.cap = cap;
    this.logTarget = -Math.log(alpha);
    this.blocks = []; // { bet, k, s }
    this.t = 0;
    this.S = 0;
    this.L = 0;
  }

  /** The plug-in rate λ̃ for the block starting after the samples seen so far (predictable). */
  nextBet() {
    const t = this.t;
    const mean = (0.5 + this.S) / (t + 1);
    const variance = (0.25 + t * mean * (1 - mean)) / (t + 1);
    const i = t + 1;
    return Math.sqrt((2 * this.logTarget) / (variance * i * Math.log(1 + i)));
  }

  /** Adds a block of k samples with s successes (bet fixed before the block). */
  add(k, s) {
    if (k === 0) return;
    this.blocks.push({ bet: this.nextBet(), k, s });
    this.t += k;
    this.S += s;
  }

  /** log K_t(m) and a bound on its rounding error. */
  logCapital(m) {
    let value = 0;
    let error = 1e-12;
    for (const { bet, k, s } of this.blocks) {
      const lambda = Math.min(bet, this.cap / m);
      const up = s === 0 ? 0 : s * Math.log1p(lambda * (1 - m));
      const down = k === s ? 0 : (k - s) * Math.log1p(-lambda * m);
      value += up + down;
      error += 1e-13 * (Math.abs(up) + Math.abs(down) + k);
    }
    return { value, error };
  }

  /** L_t: the largest m (rounded down) with every boundary below it rejected, K_t(m) ≥ 1/α; 0 if none is. */
  lower() {
    const rejects = (m) => {
      const { value, error } = this.logCapital(m);
      return value - error >= this.logTarget;
    };
    if (this.S === 0 || !rejects(Number.MIN_VALUE)) return 0;
    let lo = Number.MIN_VALUE;
    let hi = 1;
    for (let i = 0; i < 60 && hi - lo > 1e-15; i++) {
      const mid = (lo + hi) / 2;
      if (rejects(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }
}
