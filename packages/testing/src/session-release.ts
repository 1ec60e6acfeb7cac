/** The part of an onnxruntime package's `InferenceSession` class the tracker patches (node and web share it). */
interface SessionFactory {
  create: (...args: never[]) => Promise<{ release(): Promise<void> }>;
}

/**
 * Records, for every session `InferenceSession.create` opens while `run` runs, whether it was released: patches
 * the class's `create` of the given onnxruntime package (onnxruntime-node or onnxruntime-web) and restores it after.
 * Resolves to one boolean per session opened, in order.
 */
export async function trackSessionRelease(InferenceSession: SessionFactory, run: () => Promise<void>): Promise<boolean[]> {
  const real = InferenceSession.create;
  const released: boolean[] = [];
  InferenceSession.create = (async (...args: never[]) => {
    const session = await real.apply(InferenceSession, args);
    const release = session.release.bind(session);
    const index = released.push(false) - 1;
    session.release = async () => {
      released[index] = true;
      return release();
    };
    return session;
  }) as SessionFactory['create'];
  try {
    await run();
  } finally {
    InferenceSession.create = real;
  }
  return released;
}
