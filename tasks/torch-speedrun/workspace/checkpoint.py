"""Writes the lab's checkpoint format (src/gpt/checkpoint.ts): a folder with config.json (the architecture and the
byte tokenizer) and model.safetensors (float32 weights under nanoGPT's names). The task's scorer reads only this."""
import json
import os
import struct

import torch


def save_checkpoint(folder, model):
    os.makedirs(folder, exist_ok=True)
    config = {'format': 'successor-gpt', 'version': 1, 'model': model.config, 'tokenizer': {'kind': 'byte'}}
    with open(os.path.join(folder, 'config.json'), 'w') as file:
        json.dump(config, file, indent=2)
    header, blobs, offset = {'__metadata__': {'format': 'pt', 'successor_format': 'successor-gpt/1'}}, [], 0
    for name, tensor in model.nanogpt_tensors().items():
        data = tensor.detach().to(torch.float32).contiguous().numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(',', ':')).encode()
    encoded += b' ' * (-len(encoded) % 8)
    with open(os.path.join(folder, 'model.safetensors'), 'wb') as file:
        file.write(struct.pack('<Q', len(encoded)))
        file.write(encoded)
        for blob in blobs:
            file.write(blob)
