"""ONNX Runtime versus torch eager inference (images/s) for the shipped CNN architecture, at 28 px and 224 px,
on 2 threads. Run: python benchmarks/bench_imaging_inference.py  (torch optional: without it only ORT runs)."""

from __future__ import annotations

import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort

THREADS = 2
REPEATS = 5


def median_rate(fn: Callable[[], object], n_images: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n_images / statistics.median(times)


def main() -> None:
    try:
        import torch

        from hygeia.imaging.train import build_net
    except ImportError:
        torch = None  # type: ignore[assignment]
    shipped = Path(__file__).resolve().parents[1] / "src/hygeia/imaging/models/pneumonia/model.onnx"
    print(f"threads={THREADS}, median of {REPEATS} repeats")
    print(f"{'size':>5} {'batch':>5} {'ORT img/s':>10} {'torch img/s':>12} {'ORT/torch':>9}")
    for size, batch in ((28, 256), (224, 16)):
        x = np.random.default_rng(0).random((batch, 1, size, size), dtype=np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            if torch is not None:
                torch.set_num_threads(THREADS)
                net = build_net(1, 2, width=24).eval()
                path = str(Path(tmp) / "m.onnx")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    torch.onnx.export(net, (torch.zeros(1, 1, size, size),), path, dynamo=False,
                                      input_names=["image"], output_names=["proba"],
                                      dynamic_axes={"image": {0: "n"}}, opset_version=17)
            else:
                path = str(shipped)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads, opts.inter_op_num_threads = THREADS, 1
            session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
            ort_rate = median_rate(lambda s=session, x=x: s.run(None, {"image": x}), batch)
            torch_rate = float("nan")
            if torch is not None:
                xt = torch.from_numpy(x)

                def run_torch(net: object = net, xt: object = xt) -> object:
                    with torch.inference_mode():
                        return net(xt)  # type: ignore[operator]

                torch_rate = median_rate(run_torch, batch)
        print(f"{size:>5} {batch:>5} {ort_rate:>10.0f} {torch_rate:>12.0f} {ort_rate / torch_rate:>9.2f}")


if __name__ == "__main__":
    main()
