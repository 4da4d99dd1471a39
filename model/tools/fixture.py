#!/usr/bin/python3
"""Builds callvec's test fixtures and its benchmark model with torchaudio (runs with Debian's
python3-torch, python3-torchaudio and python3-onnx; no PyPI, no Hugging Face).

  /usr/bin/python3 model/tools/fixture.py --out model/src/test/resources/fixtures \
      --bundle model/src/main/resources/io/callvec/model/fixture
      A tiny wav2vec2-large-robust-shaped encoder with random weights (two ONNX variants: without
      and with an attention_mask input), golden inputs and PyTorch reference outputs, and small
      malformed models for the loader's error tests. Deterministic: rerunning reproduces the files.
      With --bundle, the folder also receives the GPU-speed stand-in (see STANDIN_FILE): the
      architecture at hidden size 1024 with no transformer layer, 8-channel convolutions and a
      4-frame depthwise positional convolution, about 0.1 MB, so that pipeline measurements run at the real model's vector width while
      the model itself costs almost nothing; its PyTorch goldens go to --out/golden/standin.*.
      The fixture folder also gets wav2vec2-tiny-cut1.onnx: the encoder cut after transformer
      layer 1 (computes layer 1 only; its one output is hidden_states_1).
  /usr/bin/python3 model/tools/fixture.py --size large [--out models/wav2vec2-large-robust-random.onnx]
      [--hidden-layers 12] [--truncate-after K]
      The full large-robust architecture (315M parameters, random weights, 1.26 GB) for benchmarks;
      --hidden-layers adds outputs hidden_states_<k>; --truncate-after K exports only layers 1..K
      with the outputs hidden_states_<k> for the --hidden-layers k <= K (default: K alone).
  /usr/bin/python3 model/tools/fixture.py --compare-onnx A.onnx B.onnx
      Exit 0 when two models have the same graph, the same weights (within 1e-6) and the same
      metadata apart from exporter versions and content hash.

The architecture is the one of facebook/wav2vec2-large-robust (Hugging Face "stable layer norm"
wav2vec2): a 7-layer convolutional feature extractor with bias and a layer norm per layer, a
feature projection, a 128-wide grouped positional convolution, pre-layer-norm transformer layers
and a final layer norm. The ONNX graph has exactly the names, axes and metadata of export.py.
The embeddings of these random models are meaningless: they exist to test the runtime.

Layer numbering is Hugging Face's ``hidden_states``: hidden_states_0 is the transformer's input
(feature projection + positional convolution), hidden_states_k for 1 <= k < L the output of
transformer layer k (before the final layer norm), and hidden_states_L, as in Hugging Face's
stable-layer-norm encoder, the final layer norm's output, i.e. last_hidden_state. torchaudio's
``extract_features(x)[0][k - 1]`` is the output of layer k without the final layer norm: equal to
hidden_states_k for k < L.
"""

import argparse
import io
import os
import sys
import warnings

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
import torchaudio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callvec_onnx as co  # noqa: E402

SEED = 1234
TINY_MODEL_ID = "callvec/wav2vec2-tiny-random"
LARGE_MODEL_ID = "callvec/wav2vec2-large-robust-random"
NO_MASK_FILE = "wav2vec2-tiny.onnx"
MASK_FILE = "wav2vec2-tiny-mask.onnx"
MASK_EXTRA_LAYERS = (1,)  # the mask variant also outputs hidden_states_1
CUT_FILE = "wav2vec2-tiny-cut1.onnx"  # the mask variant cut after transformer layer 1
CUT_LAYER = 1
STANDIN_MODEL_ID = "callvec/wav2vec2-standin-1024"
STANDIN_FILE = "wav2vec2-standin-1024.onnx"
KERNELS = (10, 3, 3, 3, 3, 2, 2)
STRIDES = (5, 2, 2, 2, 2, 2, 2)
STRIDE, RECEPTIVE = co.conv_geometry(KERNELS, STRIDES)  # 320, 400 samples


def architecture(size):
    """torchaudio.models.wav2vec2_model arguments; "large" is facebook/wav2vec2-large-robust."""
    conv_dim, embed, layers, heads, ffn, pos_groups, pos_kernel = {
        "tiny": (32, 32, 2, 4, 128, 16, 128),
        "large": (512, 1024, 24, 16, 4096, 16, 128),
        # GPU-speed stand-in: the real model's width (1024) and frame geometry, almost no compute:
        # 8 conv channels, no transformer layer, a depthwise positional convolution 4 frames wide
        # (groups = channels: 1024 x 4 weights). Its CPU cost per 5 s window is about what a GPU
        # run costs its host (copies, launches): with the real model's 128-wide positional
        # convolution, depthwise, it cost 10-20 ms of CPU per window, more than the pipeline.
        "standin": (8, 1024, 0, 16, 64, 1024, 4),
    }[size]
    return dict(
        extractor_mode="layer_norm",
        extractor_conv_layer_config=[(conv_dim, k, s) for k, s in zip(KERNELS, STRIDES)],
        extractor_conv_bias=True,
        encoder_embed_dim=embed,
        encoder_projection_dropout=0.0,
        encoder_pos_conv_kernel=pos_kernel,
        encoder_pos_conv_groups=pos_groups,
        encoder_num_layers=layers,
        encoder_num_heads=heads,
        encoder_attention_dropout=0.0,
        encoder_ff_interm_features=ffn,
        encoder_ff_interm_dropout=0.0,
        encoder_dropout=0.0,
        encoder_layer_norm_first=True,
        encoder_layer_drop=0.0,
        aux_num_out=None,
    )


def build(size, seed=SEED):
    """A torchaudio Wav2Vec2Model in eval mode with reproducible random weights."""
    torch.manual_seed(seed)
    model = torchaudio.models.wav2vec2_model(**architecture(size))
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():  # layer norms start at (1, 0): perturb them so they are tested too
        for m in model.modules():
            if isinstance(m, torch.nn.LayerNorm):
                m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
    return model.eval()


class ExportedEncoder(torch.nn.Module):
    """The graph callvec runs: Hugging Face Wav2Vec2Model semantics on torchaudio modules.

    With ``with_mask`` it takes attention_mask [batch, samples] (1 = real sample) like Hugging
    Face: valid frames come from the conv arithmetic, padded frames are zeroed before the
    positional convolution and masked out of attention, so a window's valid frames do not depend
    on the padding. ``hidden_layers``: extra outputs hidden_states_<k> (Hugging Face numbering,
    see the module docstring). ``truncate_after`` K: run transformer layers 1..K only and output
    just hidden_states_<k> for the hidden_layers k <= K (K itself when none is given); no
    last_hidden_state unless K is the last layer.
    """

    def __init__(self, model, with_mask, hidden_layers=(), truncate_after=None):
        super().__init__()
        self.model = model
        self.with_mask = with_mask
        n = len(model.encoder.transformer.layers)
        if truncate_after is not None:
            if not 0 <= truncate_after <= n:
                raise ValueError("truncate_after must be in 0..%d, got %d" % (n, truncate_after))
            hidden_layers = [k for k in hidden_layers if k <= truncate_after] or [truncate_after]
        if any(not 0 <= k <= n for k in hidden_layers):
            raise ValueError("hidden layers must be in 0..%d, got %s" % (n, hidden_layers))
        self.hidden_layers = tuple(sorted(set(hidden_layers)))
        self.truncate_after = truncate_after
        self.num_layers = n
        assert not model.encoder.transformer.layer_norm_first  # i.e. final layer norm at the end

    def output_names(self):
        names = [co.hidden_state_name(k) for k in self.hidden_layers]
        return names if self.truncate_after is not None else [co.LAST_HIDDEN_STATE] + names

    def forward(self, input_values, attention_mask=None):
        lengths = attention_mask.sum(dim=-1) if self.with_mask else None
        features, lengths = self.model.feature_extractor(input_values, lengths)
        x = self.model.encoder.feature_projection(features)
        bias = None
        if lengths is not None:
            padded = torch.arange(x.shape[1], device=x.device)[None, :] >= lengths[:, None]
            x = x.masked_fill(padded[:, :, None], 0.0)
            bias = (padded.to(x.dtype) * -10000.0)[:, None, None, :]
            bias = bias.expand(x.shape[0], 1, x.shape[1], x.shape[1])
        transformer = self.model.encoder.transformer
        x = transformer._preprocess(x)  # + positional conv (dropout is off in eval)
        extra = [x] if 0 in self.hidden_layers else []
        last = self.num_layers if self.truncate_after is None else self.truncate_after
        for k, layer in enumerate(transformer.layers[:last], start=1):
            x = layer(x, bias)
            if k in self.hidden_layers and k < self.num_layers:
                extra.append(x)
        if last < self.num_layers:  # truncated before the final layer norm
            return tuple(extra) if len(extra) > 1 else extra[0]
        x = transformer.layer_norm(x)
        if self.num_layers in self.hidden_layers:  # Hugging Face: hidden_states[L] is normed
            extra.append(x)
        if self.truncate_after is not None:
            return tuple(extra) if len(extra) > 1 else extra[0]
        return (x, *extra) if extra else x


def export(model, path_or_buffer, with_mask, hidden_layers=(), truncate_after=None):
    """torch.onnx.export with callvec's names and dynamic axes; returns the output names."""
    wrapper = ExportedEncoder(model, with_mask, hidden_layers, truncate_after).eval()
    outputs = wrapper.output_names()
    inputs = [co.INPUT_VALUES] + ([co.ATTENTION_MASK] if with_mask else [])
    x = torch.zeros(2, 16000)
    args = (x,)
    if with_mask:
        mask = torch.ones(2, 16000, dtype=torch.int64)
        mask[1, 12000:] = 0
        args = (x, mask)
    axes = {co.INPUT_VALUES: {0: "batch", 1: "samples"}}
    if with_mask:
        axes[co.ATTENTION_MASK] = {0: "batch", 1: "samples"}
    for name in outputs:
        axes[name] = {0: "batch", 1: "frames"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, args, path_or_buffer, input_names=inputs, output_names=outputs,
                          dynamic_axes=axes, opset_version=co.OPSET, do_constant_folding=True)
    return inputs, outputs


def export_with_metadata(model, path, size, model_id, with_mask, hidden_layers=(),
                         truncate_after=None):
    buffer = io.BytesIO()
    inputs, outputs = export(model, buffer, with_mask, hidden_layers, truncate_after)
    proto = onnx.load_from_string(buffer.getvalue())
    del buffer
    arch = architecture(size)
    optional = {} if truncate_after is None else {"truncated_after_layer": truncate_after}
    co.write_metadata(proto, {
        **optional,
        "model_id": model_id,
        "revision": "seed-%d" % SEED,
        "sampling_rate_hz": co.SAMPLING_RATE_HZ,
        "do_normalize": True,
        "hidden_size": arch["encoder_embed_dim"],
        "num_hidden_layers": arch["encoder_num_layers"],
        "frame_stride_samples": STRIDE,
        "receptive_field_samples": RECEPTIVE,
        "feat_extract_norm": "layer",
        "input_names": inputs,
        "output_names": outputs,
        "weights_dtype": "float32",
        "exporter": co.exporter_versions("fixture.py", torchaudio=torchaudio.__version__),
    })
    onnx.checker.check_model(proto)
    onnx.save(proto, path)


def normalize(window):
    """Hugging Face zero-mean unit-variance normalisation (population variance, eps 1e-7), float64."""
    x = window.astype(np.float64)
    return (x - x.mean()) / np.sqrt(x.var() + co.NORMALIZATION_EPSILON)


def golden_windows():
    """(name, float32 samples at 16 kHz): full 1 s windows, a short final window, edge cases."""
    rng = np.random.default_rng(20261125)
    sr = co.SAMPLING_RATE_HZ

    def t(n):
        return np.arange(n) / sr

    def voiced(n, f0, dc):
        tt = t(n)
        wave = sum(np.sin(2 * np.pi * f0 * h * tt) / h for h in range(1, 12))
        return 0.3 * wave * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * tt)) + dc

    tt = t(16000)
    windows = [
        ("chirp_1s", 0.5 * np.sin(2 * np.pi * (200 * tt + 1600 * tt ** 2))
         + 0.01 * rng.standard_normal(16000)),
        ("voiced_dc_1s", voiced(16000, 120.0, 0.1)),
        ("quiet_noise_1s", 0.001 * rng.standard_normal(16000)),
        ("short_final_11111", voiced(11111, 210.0, -0.05) + 0.02 * rng.standard_normal(11111)),
        ("two_frames_1000", 0.2 * rng.standard_normal(1000)),
        ("receptive_field_400", voiced(400, 300.0, 0.0)),
        ("silence_800", np.zeros(800)),
    ]
    return [(name, w.astype(np.float32)) for name, w in windows]


def references(windows):
    """PyTorch float64 outputs of each window run alone (no padding), on normalised input, from a
    second build of the tiny model (same seed, so the same weights) cast to float64."""
    ref = build("tiny").double()
    out = []
    with torch.no_grad():
        for name, w in windows:
            x = torch.from_numpy(normalize(w))[None, :]
            lhs, _ = ref(x)
            layers, _ = ref.extract_features(x)
            out.append({"last_hidden_state": lhs[0].numpy(),
                        "hidden_states_1": layers[0][0].numpy()})
    return ref, out


def self_check(ref, windows, refs):
    """The export wrappers, run in PyTorch float64, agree with torchaudio's own forward."""
    lengths = [len(w) for _, w in windows]
    batch = np.zeros((len(windows), max(lengths)))
    mask = np.zeros((len(windows), max(lengths)), dtype=np.int64)
    for i, (_, w) in enumerate(windows):
        batch[i, :len(w)] = normalize(w)
        mask[i, :len(w)] = 1
    with torch.no_grad():
        lhs, hs1 = ExportedEncoder(ref, True, MASK_EXTRA_LAYERS)(
            torch.from_numpy(batch), torch.from_numpy(mask))
        for i, n in enumerate(lengths):
            f = co.frames_for(n, STRIDE, RECEPTIVE)
            assert refs[i]["last_hidden_state"].shape[0] == f, "frame arithmetic"
            for got, key in ((lhs, "last_hidden_state"), (hs1, "hidden_states_1")):
                err = np.abs(got[i, :f].numpy() - refs[i][key]).max()
                assert err < 1e-9, "masked batch differs from window alone: %s %g" % (key, err)
            alone = ExportedEncoder(ref, False)(torch.from_numpy(normalize(windows[i][1]))[None])
            assert np.abs(alone[0].numpy() - refs[i]["last_hidden_state"]).max() < 1e-12


def write_f32(path, array):
    np.ascontiguousarray(array, dtype="<f4").tofile(path)


def pooled(frames):
    mean = frames.mean(axis=0)
    std = np.sqrt(((frames - mean) ** 2).mean(axis=0))  # population standard deviation
    return mean, np.concatenate([mean, std])


def standin_references(windows):
    """PyTorch float64 mean-pooled last_hidden_state of the stand-in, per window alone."""
    ref = build("standin").double()
    out = []
    with torch.no_grad():
        for _, w in windows:
            lhs, _ = ref(torch.from_numpy(normalize(w))[None, :])
            out.append(pooled(lhs[0].numpy())[0])
    return out


def write_goldens(out, windows, refs, hidden, standin_pooled):
    golden = os.path.join(out, "golden")
    os.makedirs(golden, exist_ok=True)
    lines = [
        "# callvec model fixtures, written by model/tools/fixture.py: do not edit.",
        "# Arrays: raw little-endian float32, row-major, in golden/<window>.<kind>.f32.",
        "# <window>.input: raw samples at 16 kHz [samples]; .normalized: (x-mean)/sqrt(var+1e-7);",
        "# .last_hidden_state, .hidden_states_1: [frames, hidden] from PyTorch float64 on the window",
        "# alone; .pooled_mean: [hidden]; .pooled_mean_std: [2*hidden] (population std);",
        "# .hidden_states_1.pooled_mean: [hidden]. hidden_states_1 is torchaudio's",
        "# extract_features layer 1 (= Hugging Face hidden_states[1]); the cut model computes layer 1",
        "# only. .standin.pooled_mean: [standin_hidden_size], the stand-in's mean-pooled",
        "# last_hidden_state (PyTorch float64).",
        "format=callvec-fixture-1",
        "models=%s,%s" % (NO_MASK_FILE, MASK_FILE),
        "cut_model=%s" % CUT_FILE,
        "cut_layer=%d" % CUT_LAYER,
        "standin_model=%s" % STANDIN_FILE,
        "standin_model_id=%s" % STANDIN_MODEL_ID,
        "standin_hidden_size=%d" % architecture("standin")["encoder_embed_dim"],
        "model_id=%s" % TINY_MODEL_ID,
        "sampling_rate_hz=%d" % co.SAMPLING_RATE_HZ,
        "hidden_size=%d" % hidden,
        "frame_stride_samples=%d" % STRIDE,
        "receptive_field_samples=%d" % RECEPTIVE,
        "windows=%d" % len(windows),
    ]
    for i, ((name, w), r) in enumerate(zip(windows, refs)):
        lhs = r["last_hidden_state"]
        mean, mean_std = pooled(lhs)
        hs1_mean, _ = pooled(r["hidden_states_1"])
        for kind, arr in (("input", w), ("normalized", normalize(w)), ("last_hidden_state", lhs),
                          ("hidden_states_1", r["hidden_states_1"]), ("pooled_mean", mean),
                          ("pooled_mean_std", mean_std), ("hidden_states_1.pooled_mean", hs1_mean),
                          ("standin.pooled_mean", standin_pooled[i])):
            write_f32(os.path.join(golden, "%s.%s.f32" % (name, kind)), arr)
        lines += ["window.%d.name=%s" % (i, name), "window.%d.samples=%d" % (i, len(w)),
                  "window.%d.frames=%d" % (i, lhs.shape[0])]
    with open(os.path.join(out, "manifest.properties"), "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


# ---- malformed and minimal models for the loader's tests ---------------------------------------

def _geometry_model(path, *, input_name=co.INPUT_VALUES, input_type=TensorProto.FLOAT,
                    input_shape=("batch", "samples"), output_name=co.LAST_HIDDEN_STATE,
                    kernel=RECEPTIVE, stride=STRIDE, metadata=None):
    """input [batch, samples] -> Conv(4 filters, kernel, stride) -> [batch, frames, 4]."""
    rng = np.random.default_rng(7)
    hidden = 4
    weight = numpy_helper.from_array(
        (rng.standard_normal((hidden, 1, kernel)) / np.sqrt(kernel)).astype(np.float32), "w")
    bias = numpy_helper.from_array(np.linspace(-0.1, 0.1, hidden).astype(np.float32), "b")
    initializers = [weight, bias]
    nodes, x = [], input_name
    if input_type != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", [x], ["cast"], to=TensorProto.FLOAT))
        x = "cast"
    if len(input_shape) == 3:  # [batch, samples, 1] -> [batch, 1, samples]
        nodes.append(helper.make_node("Transpose", [x], ["chw"], perm=[0, 2, 1]))
    else:
        initializers.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"))
        nodes.append(helper.make_node("Unsqueeze", [x, "axes"], ["chw"]))
    nodes += [helper.make_node("Conv", ["chw", "w", "b"], ["conv"], kernel_shape=[kernel],
                               strides=[stride]),
              helper.make_node("Transpose", ["conv"], [output_name], perm=[0, 2, 1])]
    graph = helper.make_graph(
        nodes, "geometry",
        [helper.make_tensor_value_info(input_name, input_type, list(input_shape))],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", "frames", hidden])],
        initializer=initializers)
    model = helper.make_model(graph, producer_name="callvec fixture.py",
                              opset_imports=[helper.make_opsetid("", co.OPSET)])
    model.ir_version = 8
    if metadata is not None:
        values = {
            "model_id": "callvec/test-geometry", "revision": "fixture", "sampling_rate_hz": 16000,
            "do_normalize": True, "hidden_size": hidden, "num_hidden_layers": 0,
            "frame_stride_samples": STRIDE, "receptive_field_samples": RECEPTIVE,
            "feat_extract_norm": "layer", "input_names": [input_name],
            "output_names": [output_name], "weights_dtype": "float32",
            "exporter": "tool=fixture.py onnx.helper"}
        values.update(metadata)
        co.write_metadata(model, values)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def write_bad_models(out):
    bad = os.path.join(out, "bad")
    os.makedirs(bad, exist_ok=True)
    p = lambda name: os.path.join(bad, name)  # noqa: E731
    _geometry_model(p("valid-geometry.onnx"), metadata={})
    _geometry_model(p("no-metadata.onnx"))
    _geometry_model(p("wrong-input-name.onnx"), input_name="audio", metadata={})
    _geometry_model(p("wrong-rank.onnx"), input_shape=("batch", "samples", 1), metadata={})
    _geometry_model(p("non-float-input.onnx"), input_type=TensorProto.INT16, metadata={})
    _geometry_model(p("wrong-output-name.onnx"), output_name="logits", metadata={})
    _geometry_model(p("fixed-shape.onnx"), input_shape=(1, 16000), metadata={})
    _geometry_model(p("wrong-sample-rate.onnx"), metadata={"sampling_rate_hz": 8000})
    _geometry_model(p("wrong-geometry.onnx"), stride=160, metadata={})  # metadata says 320


# ---- comparison (used by the Java regeneration test when ONNX bytes differ) ---------------------

def compare_onnx(a, b):
    ma, mb = onnx.load(a), onnx.load(b)
    problems = []
    if [(n.op_type, list(n.input), list(n.output), [str(x) for x in n.attribute])
            for n in ma.graph.node] != [(n.op_type, list(n.input), list(n.output),
                                         [str(x) for x in n.attribute]) for n in mb.graph.node]:
        problems.append("graph nodes differ")
    ia = {t.name: numpy_helper.to_array(t) for t in ma.graph.initializer}
    ib = {t.name: numpy_helper.to_array(t) for t in mb.graph.initializer}
    if sorted(ia) != sorted(ib):
        problems.append("initializer names differ")
    for name in sorted(set(ia) & set(ib)):
        if ia[name].shape != ib[name].shape or ia[name].dtype != ib[name].dtype:
            problems.append("initializer %s: shape/dtype differ" % name)
        elif ia[name].size and np.abs(ia[name].astype(np.float64)
                                      - ib[name].astype(np.float64)).max() > 1e-6:
            problems.append("initializer %s: values differ by more than 1e-6" % name)
    ignore = ("exporter", "content_sha256")
    da = {k: v for k, v in co.read_metadata(ma).items() if k not in ignore}
    db = {k: v for k, v in co.read_metadata(mb).items() if k not in ignore}
    if da != db:
        problems.append("metadata differs: %s vs %s" % (da, db))
    for p in problems:
        print("%s vs %s: %s" % (a, b, p))
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size", choices=("tiny", "large"), default="tiny")
    ap.add_argument("--out", help="tiny: fixture folder; large: .onnx file "
                                  "(default models/wav2vec2-large-robust-random.onnx)")
    ap.add_argument("--bundle", help="tiny: also copy the no-mask model into this folder and write "
                                     "the stand-in %s there" % STANDIN_FILE)
    ap.add_argument("--hidden-layers", default="",
                    help="large: comma-separated k, extra outputs hidden_states_<k>")
    ap.add_argument("--truncate-after", type=int,
                    help="large: compute transformer layers 1..K only (outputs hidden_states_<k>)")
    ap.add_argument("--compare-onnx", nargs=2, metavar=("A", "B"))
    args = ap.parse_args()
    if args.compare_onnx:
        return compare_onnx(*args.compare_onnx)

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if args.size == "large":
        out = args.out or os.path.join("models", "wav2vec2-large-robust-random.onnx")
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        layers = sorted({int(k) for k in args.hidden_layers.split(",") if k.strip()})
        model = build("large")
        params = sum(p.numel() for p in model.parameters())
        print("building %s: %d parameters, exporting (about a minute) ..." % (out, params))
        export_with_metadata(model, out, "large", LARGE_MODEL_ID, False, layers,
                             args.truncate_after)
        print("wrote %s (%d bytes)" % (out, os.path.getsize(out)))
        return 0

    if not args.out:
        ap.error("--out FOLDER is required for --size tiny")
    os.makedirs(args.out, exist_ok=True)
    model = build("tiny")
    windows = golden_windows()
    ref, refs = references(windows)
    self_check(ref, windows, refs)
    export_with_metadata(model, os.path.join(args.out, NO_MASK_FILE), "tiny", TINY_MODEL_ID, False)
    export_with_metadata(model, os.path.join(args.out, MASK_FILE), "tiny", TINY_MODEL_ID, True,
                         MASK_EXTRA_LAYERS)
    export_with_metadata(model, os.path.join(args.out, CUT_FILE), "tiny", TINY_MODEL_ID, True,
                         truncate_after=CUT_LAYER)
    write_goldens(args.out, windows, refs, architecture("tiny")["encoder_embed_dim"],
                  standin_references(windows))
    write_bad_models(args.out)
    if args.bundle:
        os.makedirs(args.bundle, exist_ok=True)
        with open(os.path.join(args.out, NO_MASK_FILE), "rb") as src, \
                open(os.path.join(args.bundle, NO_MASK_FILE), "wb") as dst:
            dst.write(src.read())
        export_with_metadata(build("standin"), os.path.join(args.bundle, STANDIN_FILE), "standin",
                             STANDIN_MODEL_ID, False)
    print("wrote fixtures to %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
