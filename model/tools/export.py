#!/usr/bin/env python3
"""Exports a Hugging Face wav2vec 2.0-family speech encoder to ONNX for callvec.

Run it on a machine with PyPI access (callvec's build does not need it):

  pip install torch transformers onnx            # + onnxconverter-common for --fp16,
                                                  # + onnxruntime for the built-in check
  python3 model/tools/export.py --out models/wav2vec2-large-robust.onnx \
      [--model facebook/wav2vec2-large-robust] [--revision main] \
      [--attention-mask] [--fp16] [--hidden-layers 6,12] [--truncate-after middle|none|K]

--truncate-after K exports an encoder cut after transformer layer K: it computes layers 1..K only
and outputs hidden_states_<k> for the --hidden-layers k <= K (K alone by default), no
last_hidden_state. The default, "middle", cuts after the middle layer (num_hidden_layers // 2:
layer 12 of wav2vec2-large-robust's 24, the README's recommendation for a general-purpose
embedding, at half the compute); "none" exports the whole encoder with last_hidden_state.
Layer numbering is Hugging Face's hidden_states (hidden_states_0: the
transformer's input; k < L: after layer k, before a stable-layer-norm model's final layer norm).
An existing export with a hidden_states_K output can also be cut afterwards, without PyTorch:
model/tools/truncate.py.

The graph and metadata follow callvec_onnx.py (input ``input_values`` float32 [batch, samples],
optional ``attention_mask`` int64 [batch, samples], output ``last_hidden_state`` float32
[batch, frames, hidden], optional ``hidden_states_<k>``; dynamic batch and time axes).
The model does not normalise its input: callvec applies the feature extractor's zero-mean
unit-variance normalisation when ``do_normalize`` is true.

Honesty note: callvec's own machine has no PyPI and no transformers, so this script is not run
by its tests. fixture.py, which is, builds the same architecture with torchaudio and exports it
with the same names, axes and metadata (callvec_onnx.py is shared by both). If onnxruntime is
installed, this script checks the exported graph against PyTorch before it finishes.
"""

import argparse
import inspect
import os
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callvec_onnx as co  # noqa: E402

MAX_PROTO_BYTES = 2 ** 31 - 1


class Encoder(torch.nn.Module):
    """last_hidden_state (+ hidden_states[k] for k in layers) of a Hugging Face encoder."""

    def __init__(self, model, with_mask, layers, truncated=False):
        super().__init__()
        self.model, self.with_mask, self.layers = model, with_mask, tuple(layers)
        self.truncated = truncated

    def forward(self, input_values, attention_mask=None):
        out = self.model(input_values, attention_mask=attention_mask,
                         output_hidden_states=bool(self.layers), return_dict=True)
        extra = [out.hidden_states[k] for k in self.layers]
        if self.truncated:
            return tuple(extra) if len(extra) > 1 else extra[0]
        return (out.last_hidden_state, *extra) if extra else out.last_hidden_state


def truncate_encoder(model, k):
    """Keeps transformer layers 1..k of a Hugging Face wav2vec2/HuBERT/WavLM model, in place.

    A stable-layer-norm encoder (do_stable_layer_norm, e.g. wav2vec2-large-robust) applies its
    final layer norm after the last layer, also to hidden_states[-1]; hidden_states[k] of the uncut
    model is taken before it, so the norm is replaced by the identity. Other encoders normalise
    before the first layer and need no change.
    """
    model.encoder.layers = model.encoder.layers[:k]
    if getattr(model.config, "do_stable_layer_norm", False):
        model.encoder.layer_norm = torch.nn.Identity()
    model.config.num_hidden_layers = k


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", default="facebook/wav2vec2-large-robust", help="hub id or folder")
    ap.add_argument("--revision", default="main", help="branch, tag or commit of the hub repo")
    ap.add_argument("--out", required=True, help="output .onnx file")
    ap.add_argument("--attention-mask", action="store_true",
                    help="add an attention_mask input (lets callvec batch windows of mixed length)")
    ap.add_argument("--fp16", action="store_true", help="float16 weights (inputs/outputs stay float32)")
    ap.add_argument("--hidden-layers", default="",
                    help="comma-separated k: also output hidden_states_<k> (Hugging Face numbering)")
    ap.add_argument("--truncate-after", default="middle",
                    help="K, 'middle' (default: num_hidden_layers // 2) or 'none' (the whole encoder): "
                         "compute transformer layers 1..K only; outputs hidden_states_<k> for the "
                         "--hidden-layers k <= K (default K alone), no last_hidden_state")
    return ap.parse_args()


def parse_truncate_after(value, num_layers):
    """--truncate-after: 'middle' -> num_layers // 2, 'none' -> None (the whole encoder), else K."""
    v = str(value).strip().lower()
    if v == "middle":
        return num_layers // 2
    if v == "none":
        return None
    try:
        return int(v)
    except ValueError:
        sys.exit("--truncate-after must be a layer number, 'middle' or 'none', got %r" % value)


def main():
    args = parse_args()
    from transformers import AutoConfig, AutoFeatureExtractor, AutoModel
    import transformers

    config = AutoConfig.from_pretrained(args.model, revision=args.revision)
    extractor = AutoFeatureExtractor.from_pretrained(args.model, revision=args.revision)
    model = AutoModel.from_pretrained(args.model, revision=args.revision,
                                      attn_implementation="eager").eval()
    revision = getattr(model.config, "_commit_hash", None) or args.revision
    layers = sorted({int(k) for k in args.hidden_layers.split(",") if k.strip()})
    norm = getattr(config, "feat_extract_norm", "layer")

    if extractor.sampling_rate != co.SAMPLING_RATE_HZ:
        sys.exit("expected a %d Hz model, %s wants %d Hz"
                 % (co.SAMPLING_RATE_HZ, args.model, extractor.sampling_rate))
    if args.attention_mask and norm == "group":
        sys.exit("%s has a group-norm feature extractor: padding changes every frame even with a "
                 "mask (Hugging Face passes no attention_mask to such models). Export without "
                 "--attention-mask; callvec then batches only windows of equal length." % args.model)
    if any(not 0 <= k <= config.num_hidden_layers for k in layers):
        sys.exit("--hidden-layers must be in 0..%d" % config.num_hidden_layers)
    num_layers = config.num_hidden_layers
    cut = parse_truncate_after(args.truncate_after, num_layers)
    optional = {}
    if cut is not None:
        if not 0 <= cut < num_layers:
            sys.exit("--truncate-after must be in 0..%d (%d = the whole model)"
                     % (num_layers - 1, num_layers))
        layers = [k for k in layers if k <= cut] or [cut]
        truncate_encoder(model, cut)
        optional["truncated_after_layer"] = cut
    stride, receptive = co.conv_geometry(config.conv_kernel, config.conv_stride)

    inputs = [co.INPUT_VALUES] + ([co.ATTENTION_MASK] if args.attention_mask else [])
    outputs = ([] if cut is not None else [co.LAST_HIDDEN_STATE]) + [co.hidden_state_name(k)
                                                                      for k in layers]
    axes = {name: {0: "batch", 1: "samples"} for name in inputs}
    axes.update({name: {0: "batch", 1: "frames"} for name in outputs})
    x = torch.randn(2, 16000)
    mask = torch.ones(2, 16000, dtype=torch.int64)
    mask[1, 12000:] = 0
    sample = (x, mask) if args.attention_mask else (x,)
    wrapper = Encoder(model, args.attention_mask, layers, truncated=cut is not None).eval()
    kwargs = dict(input_names=inputs, output_names=outputs, dynamic_axes=axes,
                  opset_version=co.OPSET, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter honours dynamic_axes
    with torch.no_grad():
        torch.onnx.export(wrapper, sample, args.out, **kwargs)

    proto = onnx.load(args.out)
    if proto.ByteSize() > MAX_PROTO_BYTES:
        sys.exit("the model is over 2 GB; ONNX external data is not supported by this script")
    if args.fp16:
        from onnxconverter_common import float16
        proto = float16.convert_float_to_float16(proto, keep_io_types=True)
    co.write_metadata(proto, {
        **optional,
        "model_id": args.model,
        "revision": revision,
        "sampling_rate_hz": extractor.sampling_rate,
        "do_normalize": bool(getattr(extractor, "do_normalize", True)),
        "hidden_size": config.hidden_size,
        "num_hidden_layers": num_layers,  # the checkpoint's count, also when truncated
        "frame_stride_samples": stride,
        "receptive_field_samples": receptive,
        "feat_extract_norm": norm,
        "input_names": inputs,
        "output_names": outputs,
        "weights_dtype": "float16" if args.fp16 else "float32",
        "exporter": co.exporter_versions("export.py",
                                         transformers=transformers.__version__),
    })
    onnx.save(proto, args.out)
    print("wrote %s (%d bytes), frame stride %d samples, receptive field %d samples"
          % (args.out, os.path.getsize(args.out), stride, receptive))
    check(args.out, wrapper, args.attention_mask, extractor, len(outputs))


def check(path, wrapper, with_mask, extractor, n_outputs):
    """Runs the exported file in ONNX Runtime (if installed) against PyTorch on two windows."""
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed: skipped the PyTorch vs ONNX Runtime check")
        return
    rng = np.random.default_rng(0)
    windows = [rng.standard_normal(16000).astype(np.float32),
               rng.standard_normal(12345).astype(np.float32)]
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for w in windows:
        feats = extractor(w, sampling_rate=co.SAMPLING_RATE_HZ, return_tensors="np")
        feed = {co.INPUT_VALUES: feats["input_values"].astype(np.float32)}
        if with_mask:
            feed[co.ATTENTION_MASK] = np.ones_like(feed[co.INPUT_VALUES], dtype=np.int64)
        got = session.run(None, feed)
        with torch.no_grad():
            want = wrapper(*[torch.from_numpy(v) for v in feed.values()])
        want = want if isinstance(want, tuple) else (want,)
        for g, t in zip(got[:n_outputs], want):
            t = t.numpy()
            err = np.abs(g - t).max() / max(np.abs(t).max(), 1e-12)
            print("check: %d samples, output %s, max abs error relative to scale %.2e"
                  % (len(w), g.shape, err))


if __name__ == "__main__":
    main()
