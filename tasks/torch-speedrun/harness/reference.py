"""Trusted: reads a checkpoint in the lab's format (src/gpt/checkpoint.ts: config.json + model.safetensors) that an
untrusted run wrote, and evaluates it with this file's own GPT, never the workspace's code.

The checkpoint is hostile input: every size is checked before anything is allocated, the weights are parsed as raw
little-endian float32 (no pickle, no torch.load), and every problem is a CheckpointError with one line naming it.
The model follows src/gpt/model.ts: pre-norm blocks (LayerNorm or RMSNorm, eps 1e-5), causal attention with a
fused qkv projection, a 4C MLP with GELU (tanh) or ReLU², a tied head. Evaluation follows src/gpt/evaluate.ts: the
first N targets in non-overlapping windows of the model's context, each scored once.
Dimension letters: B batch, T sequence length, C width, V vocabulary, NH heads, hs head size.
"""
import json
import math
import os
import struct

import numpy
import torch
import torch.nn.functional as F

MAX_CONFIG_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 << 24
MAX_PARAMETERS = 50_000_000
LIMITS = {'vocabSize': (256, 256), 'contextLength': (1, 2048), 'layers': (1, 32), 'heads': (1, 64), 'width': (1, 2048), 'mlpRatio': (4, 4)}


class CheckpointError(Exception):
    pass


def read_config(folder):
    path = os.path.join(folder, 'config.json')
    if not os.path.isfile(path):
        raise CheckpointError('no checkpoint/config.json')
    if os.path.getsize(path) > MAX_CONFIG_BYTES:
        raise CheckpointError('config.json is larger than 1 MiB')
    try:
        with open(path, 'rb') as file:
            config = json.loads(file.read())
    except ValueError as error:
        raise CheckpointError(f'config.json is not JSON: {error}')
    if not isinstance(config, dict) or config.get('format') != 'successor-gpt' or config.get('version') != 1:
        raise CheckpointError('config.json: not a successor-gpt version 1 checkpoint')
    if config.get('tokenizer') != {'kind': 'byte'}:
        raise CheckpointError('config.json: tokenizer must be {"kind": "byte"}')
    model = config.get('model')
    if not isinstance(model, dict):
        raise CheckpointError('config.json: no model')
    for key, (low, high) in LIMITS.items():
        value = model.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise CheckpointError(f'config.json: model.{key} must be an integer in [{low}, {high}], got {value!r}')
    if model['width'] % model['heads']:
        raise CheckpointError('config.json: model.heads must divide model.width')
    if model.get('norm') not in ('layernorm', 'rmsnorm') or model.get('activation') not in ('gelu', 'relu2') or model.get('tiedEmbeddings') is not True:
        raise CheckpointError('config.json: model.norm, model.activation or model.tiedEmbeddings is not one this task scores')
    return model


def tensor_shapes(model):
    """The nanoGPT-named tensors a config needs, with their shapes."""
    V, T, L, C = model['vocabSize'], model['contextLength'], model['layers'], model['width']
    bias = model['norm'] == 'layernorm'
    shapes = {'transformer.wte.weight': (V, C), 'transformer.wpe.weight': (T, C), 'transformer.ln_f.weight': (C,)}
    if bias:
        shapes['transformer.ln_f.bias'] = (C,)
    for layer in range(L):
        prefix = f'transformer.h.{layer}.'
        shapes.update({f'{prefix}ln_1.weight': (C,), f'{prefix}attn.c_attn.weight': (3 * C, C), f'{prefix}attn.c_attn.bias': (3 * C,),
                       f'{prefix}attn.c_proj.weight': (C, C), f'{prefix}attn.c_proj.bias': (C,), f'{prefix}ln_2.weight': (C,),
                       f'{prefix}mlp.c_fc.weight': (4 * C, C), f'{prefix}mlp.c_fc.bias': (4 * C,),
                       f'{prefix}mlp.c_proj.weight': (C, 4 * C), f'{prefix}mlp.c_proj.bias': (C,)})
        if bias:
            shapes.update({f'{prefix}ln_1.bias': (C,), f'{prefix}ln_2.bias': (C,)})
    return shapes


def read_weights(folder, model):
    path = os.path.join(folder, 'model.safetensors')
    if not os.path.isfile(path):
        raise CheckpointError('no checkpoint/model.safetensors')
    shapes = tensor_shapes(model)
    total = sum(math.prod(shape) for shape in shapes.values())
    if total > MAX_PARAMETERS:
        raise CheckpointError(f'{total} parameters: more than this task scores ({MAX_PARAMETERS})')
    size = os.path.getsize(path)
    with open(path, 'rb') as file:
        prefix = file.read(8)
        if len(prefix) < 8:
            raise CheckpointError('model.safetensors is shorter than its header length')
        header_bytes = struct.unpack('<Q', prefix)[0]
        if header_bytes > MAX_HEADER_BYTES or 8 + header_bytes + 4 * total != size:
            raise CheckpointError(f'model.safetensors is {size} bytes; a header of {header_bytes} bytes and {total} float32 values need {8 + header_bytes + 4 * total}')
        try:
            header = json.loads(file.read(header_bytes))
        except ValueError as error:
            raise CheckpointError(f'model.safetensors header is not JSON: {error}')
        data = file.read()
    header.pop('__metadata__', None)
    if set(header) != set(shapes):
        missing, extra = sorted(set(shapes) - set(header)), sorted(set(header) - set(shapes))
        raise CheckpointError(f'model.safetensors tensors differ from the config: missing {missing[:3]}, unexpected {extra[:3]}')
    tensors = {}
    for name, shape in shapes.items():
        entry = header[name]
        count = math.prod(shape)
        offsets = entry.get('data_offsets') if isinstance(entry, dict) else None
        if entry.get('dtype') != 'F32' or list(entry.get('shape', [])) != list(shape) or not isinstance(offsets, list) or len(offsets) != 2:
            raise CheckpointError(f'model.safetensors: {name} must be F32 of shape {list(shape)}')
        begin, end = offsets
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin and end == begin + 4 * count and end <= len(data)):
            raise CheckpointError(f'model.safetensors: {name} has bad data offsets')
        values = numpy.frombuffer(data, dtype='<f4', count=count, offset=begin).reshape(shape)
        if not numpy.isfinite(values).all():
            raise CheckpointError(f'model.safetensors: {name} holds NaN or infinity')
        tensors[name] = torch.from_numpy(values.astype(numpy.float32))
    return tensors


def norm(x, weight, bias, kind):
    if kind == 'layernorm':
        return F.layer_norm(x, (x.shape[-1],), weight, bias, 1e-5)
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight


def forward(model, tensors, inputs):
    """Logits (B, T, V) of the reference GPT for token ids (B, T)."""
    B, T = inputs.shape
    C, NH, kind = model['width'], model['heads'], model['norm']
    get = tensors.get
    x = tensors['transformer.wte.weight'][inputs] + tensors['transformer.wpe.weight'][:T]  # (B, T, C)
    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    for layer in range(model['layers']):
        p = f'transformer.h.{layer}.'
        q, k, v = F.linear(norm(x, get(p + 'ln_1.weight'), get(p + 'ln_1.bias'), kind), get(p + 'attn.c_attn.weight'), get(p + 'attn.c_attn.bias')).split(C, dim=2)
        q, k, v = (tensor.view(B, T, NH, C // NH).transpose(1, 2) for tensor in (q, k, v))  # (B, NH, T, hs)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // NH))
        attention = F.softmax(scores.masked_fill(mask, float('-inf')), dim=-1)
        y = (attention @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + F.linear(y, get(p + 'attn.c_proj.weight'), get(p + 'attn.c_proj.bias'))
        hidden = F.linear(norm(x, get(p + 'ln_2.weight'), get(p + 'ln_2.bias'), kind), get(p + 'mlp.c_fc.weight'), get(p + 'mlp.c_fc.bias'))
        hidden = F.gelu(hidden, approximate='tanh') if model['activation'] == 'gelu' else F.relu(hidden).square()
        x = x + F.linear(hidden, get(p + 'mlp.c_proj.weight'), get(p + 'mlp.c_proj.bias'))
    x = norm(x, tensors['transformer.ln_f.weight'], tensors.get('transformer.ln_f.bias'), kind)
    return x @ tensors['transformer.wte.weight'].t()


def window_loss(model, tensors, tokens, starts, length):
    """Summed cross-entropy of windows of `length` tokens starting at `starts`, each predicting its next tokens."""
    inputs = torch.stack([tokens[start:start + length] for start in starts])  # (B, T)
    targets = torch.stack([tokens[start + 1:start + length + 1] for start in starts])
    logits = forward(model, tensors, inputs)  # (B, T, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction='sum').item()


def evaluate(folder, tokens, max_tokens, rows=16):
    """Mean cross-entropy (nats per token) over the first max_tokens targets of `tokens`, as src/gpt/evaluate.ts:
    full windows of the model's context, `rows` at a time, then the shorter last window alone."""
    model = read_config(folder)
    tensors = read_weights(folder, model)
    T = model['contextLength']
    scored = min(max_tokens, len(tokens) - 1)
    if scored < 1:
        raise CheckpointError('nothing to evaluate')
    full = scored // T
    total = 0.0
    with torch.no_grad():
        for first in range(0, full, rows):
            total += window_loss(model, tensors, tokens, [window * T for window in range(first, min(full, first + rows))], T)
        if scored > full * T:
            total += window_loss(model, tensors, tokens, [full * T], scored - full * T)
    return total / scored, model, sum(tensor.numel() for tensor in tensors.values())
