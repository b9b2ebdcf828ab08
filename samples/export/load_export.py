#!/usr/bin/env python3
"""Reads an `mtlhost export --checkpoint DIR --out DIR` folder with the Python standard library alone.

    python3 load_export.py EXPORT_DIR            # lists every tensor: file, name, dtype, shape, sum, first values
    python3 load_export.py EXPORT_DIR --torch    # also builds torch tensors (and a transformers BertModel if installed)

The folder holds encoder.safetensors (Hugging Face BertModel state-dict names), heads/<task>.safetensors,
vocab.txt and mtlhost-export.json (encoder config in config.json terms; per task its kind, labels, head tensors and
the head's forward). safetensors: 8-byte little-endian header length, JSON header, raw little-endian data.
"""
import json
import os
import struct
import sys

# safetensors dtype -> (struct format, bytes per element); BF16 is widened to float32 by hand.
FORMATS = {"F64": ("d", 8), "F32": ("f", 4), "F16": ("e", 2), "I64": ("q", 8), "I32": ("i", 4),
           "I16": ("h", 2), "I8": ("b", 1), "U8": ("B", 1), "BOOL": ("?", 1)}


def read_safetensors(path):
    """Returns ({name: (dtype, shape, raw bytes)}, metadata) in file order."""
    with open(path, "rb") as f:
        data = f.read()
    (header_length,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + header_length].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    start = 8 + header_length
    tensors = {}
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], data[start + begin:start + end])
    return tensors, metadata


def values(dtype, raw):
    """The elements as Python numbers, row-major."""
    if dtype == "BF16":
        return [struct.unpack("<f", b"\0\0" + raw[i:i + 2])[0] for i in range(0, len(raw), 2)]
    fmt, size = FORMATS[dtype]
    return list(struct.unpack("<%d%s" % (len(raw) // size, fmt), raw))


def to_torch(dtype, shape, raw):
    import torch
    kinds = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
             "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
    return torch.frombuffer(bytearray(raw), dtype=kinds[dtype]).reshape(shape).clone()


def apply_head(kind, head, hidden):
    """The SDK heads' forward at inference (dropout off). hidden: BertModel(...).last_hidden_state [B, T, H]."""
    if kind == "Regression":
        return (hidden[:, 0] @ head["regressor.weight"].T + head["regressor.bias"])[:, 0]
    if kind == "TokenClassification":
        return hidden @ head["classifier.weight"].T + head["classifier.bias"]
    return hidden[:, 0] @ head["classifier.weight"].T + head["classifier.bias"]


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    folder = argv[1]
    use_torch = "--torch" in argv[2:]
    description_path = os.path.join(folder, "mtlhost-export.json")
    if not os.path.exists(description_path):
        print("load_export.py: %s has no mtlhost-export.json; pass the --out folder of 'mtlhost export'." % folder, file=sys.stderr)
        return 2
    with open(description_path, encoding="utf-8") as f:
        description = json.load(f)

    encoder = description["encoder"]
    print("checkpoint step %d, encoder %s: %s" % (description["checkpoint"]["step"], encoder["name"],
                                                   json.dumps(encoder["config"], sort_keys=True)))
    files = [encoder["file"]] + [task["head"]["file"] for task in description["tasks"]] + \
            [branch["file"] for branch in description.get("branches", [])]
    loaded = {}
    for file in files:
        tensors, metadata = read_safetensors(os.path.join(folder, file))
        loaded[file] = tensors
        for name, (dtype, shape, raw) in tensors.items():
            v = values(dtype, raw)
            print("tensor %s %s %s %s sum=%r first=%s" % (file, name, dtype, "x".join(str(s) for s in shape) or "scalar",
                                                        float(sum(v)), [round(x, 6) for x in v[:3]]))
    for task in description["tasks"]:
        print("task %s %s labels=%d head=%s" % (task["id"], task["kind"], len(task["labels"]), task["head"]["file"]))

    if use_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("torch is not installed; the tensors above were read without it.")
            return 0
        state = {name: to_torch(*t) for name, t in loaded[encoder["file"]].items()}
        print("torch: %d encoder tensors" % len(state))
        try:
            from transformers import BertConfig, BertModel
            model = BertModel(BertConfig(**encoder["config"]), add_pooling_layer=True)
            missing, unexpected = model.load_state_dict(state, strict=False)
            print("transformers.BertModel loaded; missing %s, unexpected %s" % (missing, unexpected))
        except ImportError:
            print("transformers is not installed; build BertModel(BertConfig(**config)) and load_state_dict(state) with it.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
