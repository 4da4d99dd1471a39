#!/usr/bin/python3
"""Cuts a callvec export after transformer layer K: keeps only its hidden_states_<k> outputs and
prunes every node, initializer and input they do not need (layers K+1..L, the final layer norm,
last_hidden_state). Needs only the ``onnx`` package (Debian's python3-onnx); no PyTorch.

  /usr/bin/python3 model/tools/truncate.py IN.onnx OUT.onnx --layers 12
  /usr/bin/python3 model/tools/truncate.py IN.onnx OUT.onnx --layers 6,12   # one pass, two layers

IN.onnx must have the outputs hidden_states_<k> (export.py --hidden-layers 6,12, or fixture.py
--size large --hidden-layers 12). Layer numbering is Hugging Face's ``hidden_states`` (see
fixture.py): hidden_states_k for k < L is the output of transformer layer k before the final layer
norm, so the cut graph computes exactly what the uncut graph computes for that output; the values
are the same operations on the same weights.

Metadata (callvec_onnx.py): every callvec.* entry is kept, except ``output_names`` (the kept
outputs), ``input_names`` (the inputs still used), ``exporter`` (``+ truncate.py`` appended) and
``content_sha256`` (recomputed); added: ``truncated_after_layer`` (the deepest kept layer) and
``source_content_sha256`` (IN's content hash). ``num_hidden_layers`` stays the checkpoint's count.
"""

import argparse
import os
import sys

import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import callvec_onnx as co  # noqa: E402


def _subgraph_inputs(node):
    """Names read inside a node's subgraphs (If/Loop/Scan bodies): treated as the node's inputs."""
    names = set()
    for attr in node.attribute:
        graphs = list(attr.graphs) + ([attr.g] if attr.HasField("g") else [])
        for g in graphs:
            for n in g.node:
                names.update(i for i in n.input if i)
                for sub in n.attribute:
                    if sub.HasField("g") or len(sub.graphs):
                        names |= _subgraph_inputs(n)
    return names


def prune(model, keep_outputs):
    """In place: graph outputs = keep_outputs; drops nodes, initializers, inputs and value_info
    that no kept output depends on. Returns (nodes before, nodes after)."""
    graph = model.graph
    by_name = {o.name: o for o in graph.output}
    missing = [n for n in keep_outputs if n not in by_name]
    if missing:
        raise SystemExit("outputs %s not in the model; it has %s"
                         % (missing, [o.name for o in graph.output]))
    needed = set(keep_outputs)
    kept_nodes = []
    for node in reversed(graph.node):  # nodes are topologically sorted: walk back once
        if any(o in needed for o in node.output):
            kept_nodes.append(node)
            needed.update(i for i in node.input if i)
            needed |= _subgraph_inputs(node)
    kept_nodes.reverse()
    before = len(graph.node)
    nodes = [onnx.NodeProto() for _ in kept_nodes]
    for dst, src in zip(nodes, kept_nodes):
        dst.CopyFrom(src)
    outputs = [by_name[n] for n in keep_outputs]
    outputs = [onnx.ValueInfoProto.FromString(o.SerializeToString()) for o in outputs]
    inputs = [i for i in graph.input if i.name in needed]
    inputs = [onnx.ValueInfoProto.FromString(i.SerializeToString()) for i in inputs]
    inits = [t for t in graph.initializer if t.name in needed]
    inits = [onnx.TensorProto.FromString(t.SerializeToString()) for t in inits]
    infos = [v for v in graph.value_info if v.name in needed]
    infos = [onnx.ValueInfoProto.FromString(v.SerializeToString()) for v in infos]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.output[:]
    graph.output.extend(outputs)
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.value_info[:]
    graph.value_info.extend(infos)
    return before, len(graph.node)


def truncate(src, dst, layers):
    model = onnx.load(src)
    meta = co.read_metadata(model)
    if not meta:
        raise SystemExit("%s has no callvec.* metadata: export it with model/tools/export.py" % src)
    stored = meta.get("content_sha256")
    if stored != co.content_sha256(model):  # also strips the callvec.* entries
        raise SystemExit("%s: callvec.content_sha256 does not match its content (edited after "
                         "export?): refusing to cut it" % src)
    num_layers = int(meta["num_hidden_layers"])
    if any(not 0 <= k < num_layers for k in layers):
        raise SystemExit("--layers must be in 0..%d (layer %d is last_hidden_state: nothing to cut)"
                         % (num_layers - 1, num_layers))
    keep = [co.hidden_state_name(k) for k in layers]
    before, after = prune(model, keep)
    values = {k: v for k, v in meta.items()
              if k not in ("metadata_version", "content_sha256")}
    values.update({
        "output_names": keep,
        "input_names": [i.name for i in model.graph.input],
        "truncated_after_layer": max(layers),
        "source_content_sha256": stored,
        "exporter": "%s + tool=truncate.py onnx=%s" % (meta.get("exporter", "?"), onnx.__version__),
    })
    co.write_metadata(model, values)
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return before, after


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--layers", required=True,
                    help="comma-separated k: keep hidden_states_<k> (Hugging Face numbering)")
    args = ap.parse_args()
    layers = sorted({int(k) for k in args.layers.split(",") if k.strip()})
    if not layers:
        ap.error("--layers needs at least one layer")
    before, after = truncate(args.src, args.dst, layers)
    print("wrote %s: outputs %s, %d of %d nodes kept (%d bytes)"
          % (args.dst, ",".join(co.hidden_state_name(k) for k in layers), after, before,
             os.path.getsize(args.dst)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
