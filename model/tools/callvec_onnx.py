"""The contract between an exported speech encoder and callvec's Java runtime (io.callvec.model).

Shared by export.py (Hugging Face models, run on a user's machine) and fixture.py (test fixtures
and benchmark models built here with torchaudio), so that both write the same names and metadata.

Graph contract:
  input  ``input_values``      float32 [batch, samples]  16 kHz mono, normalised by the caller
  input  ``attention_mask``    int64   [batch, samples]  optional; 1 = real sample, 0 = padding
  output ``last_hidden_state`` float32 [batch, frames, hidden]
  output ``hidden_states_<k>`` float32 [batch, frames, hidden]  optional, Hugging Face numbering
                                (k = output of encoder layer k, before the final layer norm)

Metadata (ONNX ``metadata_props``, all strings, see KEYS). ``callvec.content_sha256`` is the SHA-256
of the model serialised with deterministic protobuf serialisation after removing every
``callvec.*`` entry; ``python3 callvec_onnx.py verify MODEL.onnx`` recomputes it.
"""

import hashlib
import sys

INPUT_VALUES = "input_values"
ATTENTION_MASK = "attention_mask"
LAST_HIDDEN_STATE = "last_hidden_state"
SAMPLING_RATE_HZ = 16000
# Hugging Face Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm: (x - mean) / sqrt(var + 1e-7).
NORMALIZATION_EPSILON = 1e-7
# 17: LayerNormalization is one op, which ONNX Runtime computes in float32 even for fp16 weights.
OPSET = 17

PREFIX = "callvec."
METADATA_VERSION = "1"
KEYS = (
    "metadata_version",         # "1"
    "model_id",                 # e.g. facebook/wav2vec2-large-robust
    "revision",                 # hub commit or tag the weights came from
    "sampling_rate_hz",         # 16000
    "do_normalize",             # "true": the caller applies zero-mean unit-variance per window
    "hidden_size",              # floats per frame of every output
    "num_hidden_layers",        # transformer layers
    "frame_stride_samples",     # 320: one output frame per 20 ms
    "receptive_field_samples",  # 400: frames = floor((samples - 400) / 320) + 1
    "feat_extract_norm",        # "layer" (padding-safe with a mask) or "group"
    "input_names",              # comma separated
    "output_names",             # comma separated
    "weights_dtype",            # float32 or float16 (inputs and outputs stay float32)
    "exporter",                 # tool and library versions
    "content_sha256",           # see module docstring
)
# Optional keys (absent = not applicable), written after KEYS when given.
OPTIONAL_KEYS = (
    "truncated_after_layer",    # K: the graph computes transformer layers 1..K only (of
                                # num_hidden_layers, the checkpoint's count); outputs are
                                # hidden_states_<k> for k <= K, no last_hidden_state unless K = L
    "source_content_sha256",    # truncate.py: content_sha256 of the export it was cut from
)


def hidden_state_name(layer):
    """Output name of the hidden state after encoder layer ``layer`` (Hugging Face numbering)."""
    return "hidden_states_%d" % layer


def conv_geometry(kernels, strides):
    """(frame stride, receptive field), both in samples, of a stack of unpadded 1-D convolutions.

    Output frames for n >= receptive field input samples: floor((n - receptive) / stride) + 1.
    """
    receptive, stride = 1, 1
    for k, s in zip(kernels, strides):
        receptive += (k - 1) * stride
        stride *= s
    return stride, receptive


def frames_for(samples, stride, receptive):
    """Output frames for a window of ``samples`` input samples (0 when shorter than receptive)."""
    return 0 if samples < receptive else (samples - receptive) // stride + 1


def _strip(model):
    """Removes callvec.* metadata entries in place; returns the others (kept)."""
    kept = [(p.key, p.value) for p in model.metadata_props if not p.key.startswith(PREFIX)]
    del model.metadata_props[:]
    for k, v in kept:
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    return kept


def content_sha256(model):
    """SHA-256 (hex) of ``model`` without callvec.* metadata. Strips those entries in place."""
    _strip(model)
    return hashlib.sha256(model.SerializeToString(deterministic=True)).hexdigest()


def write_metadata(model, values):
    """Writes callvec.* metadata into the onnx ModelProto ``model`` (replacing any present).

    ``values`` maps every key of KEYS except metadata_version and content_sha256 to a value
    (bool -> "true"/"false", lists -> comma separated, numbers -> str), and optionally keys of
    OPTIONAL_KEYS.
    """
    missing = [k for k in KEYS if k not in ("metadata_version", "content_sha256") and k not in values]
    unknown = [k for k in values if k not in KEYS and k not in OPTIONAL_KEYS]
    if missing or unknown:
        raise ValueError("metadata: missing keys %s, unknown keys %s" % (missing, unknown))
    digest = content_sha256(model)
    entries = dict(values, metadata_version=METADATA_VERSION, content_sha256=digest)
    for key in KEYS + tuple(k for k in OPTIONAL_KEYS if k in entries):
        value = entries[key]
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        entry = model.metadata_props.add()
        entry.key, entry.value = PREFIX + key, str(value)
    return digest


def read_metadata(model):
    """callvec.* metadata of an onnx ModelProto as a dict without the prefix."""
    return {p.key[len(PREFIX):]: p.value for p in model.metadata_props if p.key.startswith(PREFIX)}


def exporter_versions(tool, opset=OPSET, **extra):
    """A one-line description of the exporting tool and library versions."""
    import onnx
    import torch
    parts = ["tool=" + tool, "torch=" + torch.__version__, "onnx=" + onnx.__version__,
             "opset=%d" % opset, "python=%d.%d" % sys.version_info[:2]]
    parts += ["%s=%s" % kv for kv in sorted(extra.items())]
    return " ".join(parts)


def _verify(path):
    import onnx
    model = onnx.load(path)
    meta = read_metadata(model)
    stored = meta.get("content_sha256")
    actual = content_sha256(model)
    for key in KEYS:
        print("%-24s %s" % (key, meta.get(key, "<missing>")))
    for key in OPTIONAL_KEYS:
        if key in meta:
            print("%-24s %s" % (key, meta[key]))
    if stored != actual:
        print("content_sha256 MISMATCH: stored %s, recomputed %s" % (stored, actual))
        return 1
    print("content_sha256 verified")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "verify":
        print("usage: python3 callvec_onnx.py verify MODEL.onnx", file=sys.stderr)
        sys.exit(2)
    sys.exit(_verify(sys.argv[2]))
