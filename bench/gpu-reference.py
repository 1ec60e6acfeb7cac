#!/usr/bin/env python3
"""Reference throughput of a shipped base classifier on a GPU machine, for docs/performance.md.

Not part of `pnpm bench` (which measures the SDK itself on this machine's CPU): it answers "how fast can the
paper's MNIST CNN go on a GPU?" so that users of the ONNX-CUDA and tfjs-GPU backends know what to expect from the
base-classifier side. It measures, on random ablated multichannel inputs of batch N:
  - ONNX Runtime (Python binding, same C++ runtime as onnxruntime-node) with each available execution provider;
  - PyTorch on CUDA with the ONNX file's weights loaded into training/train.py's PaperCNN.
Each figure is samples/s over timed repetitions after warm-ups, input upload from host memory included.
Usage: python3 bench/gpu-reference.py models/mnist-k45-multichannel.onnx
"""
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'training'))


def inputs(n, k=45, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    keep = np.zeros((n, 784), dtype=np.float32)
    idx = np.argsort(rng.random((n, 784)), axis=1)[:, :k]
    np.put_along_axis(keep, idx, 1.0, axis=1)
    keep = keep.reshape(n, 1, 28, 28)
    return np.concatenate([x * keep, (1 - x) * keep], axis=1)


def timed(fn, reps):
    for _ in range(3):
        fn()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t0) / reps


def main():
    path = sys.argv[1]
    out = {'model': os.path.basename(path), 'results': []}
    batches = (1000, 10000)
    try:
        import onnxruntime as ort
        out['onnxruntime'] = ort.__version__
        out['providers'] = ort.get_available_providers()
        for prov in out['providers']:
            if prov not in ('CUDAExecutionProvider', 'CPUExecutionProvider', 'TensorrtExecutionProvider'):
                continue
            try:
                sess = ort.InferenceSession(path, providers=[prov])
                for n in batches:
                    x = inputs(n)
                    s = timed(lambda: sess.run(None, {'input': x}), 10)
                    out['results'].append({'runtime': f'onnxruntime {prov}', 'batch': n, 'samplesPerSecond': round(n / s)})
            except Exception as e:  # noqa: BLE001 — report and go on
                out['results'].append({'runtime': f'onnxruntime {prov}', 'error': str(e)[:300]})
    except Exception as e:  # noqa: BLE001
        out['onnxruntimeError'] = str(e)[:300]
    try:
        import onnx
        import torch
        from onnx import numpy_helper
        from train import PaperCNN
        weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in onnx.load(path).graph.initializer}
        model = PaperCNN(2)
        model.load_state_dict({k: weights[k] for k in model.state_dict()})
        out['torch'] = torch.__version__
        if torch.cuda.is_available():
            dev = torch.device('cuda')
            out['gpu'] = torch.cuda.get_device_name(dev)
            model = model.to(dev).eval()
            for n in batches:
                x = torch.from_numpy(inputs(n)).pin_memory()

                def run():
                    with torch.no_grad():
                        y = model(x.to(dev, non_blocking=True)).argmax(1).cpu()
                    return y
                s = timed(run, 20)
                out['results'].append({'runtime': 'torch CUDA fp32', 'batch': n, 'samplesPerSecond': round(n / s)})
            # agreement with ONNX Runtime's CPU answer on the same inputs
            try:
                import onnxruntime as ort
                x = inputs(1000, seed=1)
                a = ort.InferenceSession(path, providers=['CPUExecutionProvider']).run(None, {'input': x})[0].argmax(1)
                with torch.no_grad():
                    b = model(torch.from_numpy(x).to(dev)).argmax(1).cpu().numpy()
                out['torchOnnxAgreement'] = float((a == b).mean())
            except Exception as e:  # noqa: BLE001
                out['agreementError'] = str(e)[:300]
    except Exception as e:  # noqa: BLE001
        out['torchError'] = str(e)[:300]
    print(json.dumps(out, indent=2))


if __name__ == '__main__':
    main()
