#!/usr/bin/env python3
"""Golden fixture for the successor's GPT (src/gpt/model.ts), from an independent implementation: PyTorch, float64.

Usage (Debian's python3-torch; the pyenv `python3` on PATH has no torch):
    /usr/bin/python3 scripts/golden-fixture.py > test/gpt/fixtures/golden.json

The script defines the same pre-norm GPT with torch ops (F.layer_norm, F.gelu(approximate='tanh'),
F.cross_entropy, autograd), generates its own weights, and writes weights, a fixed batch, the loss, a few logit rows
and per-parameter gradients (L2 norm over the whole tensor and its first values) for several configs.
Weights are stored as integers k with weight = k / WEIGHT_SCALE: exact in float32 and float64 alike, and compact.
Parameter names, shapes and order follow src/gpt/config.ts (parameterLayout); layer tensors are stacked (L, ...).
Epsilons: layernorm 1e-5 (torch default), rmsnorm 1e-5 (hand-written: torch 1.13 has no nn.RMSNorm).
"""
import json
import math
import re
import sys

import torch
import torch.nn.functional as F

WEIGHT_SCALE = 4096
LAYERNORM_EPSILON = 1e-5
RMSNORM_EPSILON = 1e-5
GRADIENT_HEAD = 8  # leading gradient values stored per tensor, beside the norm

CASES = [
    dict(name='layernorm-gelu-tied', seed=1, batch=2, sequence=8,
         config=dict(vocabSize=32, contextLength=10, layers=2, heads=2, width=16, mlpRatio=4,
                     norm='layernorm', activation='gelu', tiedEmbeddings=True)),
    dict(name='rmsnorm-relu2-untied', seed=2, batch=2, sequence=8,
         config=dict(vocabSize=32, contextLength=8, layers=2, heads=2, width=16, mlpRatio=2,
                     norm='rmsnorm', activation='relu2', tiedEmbeddings=False)),
    dict(name='rmsnorm-gelu-tied-4-heads', seed=3, batch=3, sequence=7,
         config=dict(vocabSize=20, contextLength=9, layers=1, heads=4, width=16, mlpRatio=3,
                     norm='rmsnorm', activation='gelu', tiedEmbeddings=True)),
]

PARAMETER_NAMES = ['wte', 'wpe', 'ln1w', 'ln1b', 'qkvw', 'qkvb', 'attprojw', 'attprojb', 'ln2w', 'ln2b',
                   'fcw', 'fcb', 'fcprojw', 'fcprojb', 'lnfw', 'lnfb', 'lmhead']


def shapes(config):
    V, T, L, C = config['vocabSize'], config['contextLength'], config['layers'], config['width']
    H = config['mlpRatio'] * C
    bias = config['norm'] == 'layernorm'
    return {
        'wte': [V, C], 'wpe': [T, C],
        'ln1w': [L, C], 'ln1b': [L, C] if bias else None,
        'qkvw': [L, 3 * C, C], 'qkvb': [L, 3 * C], 'attprojw': [L, C, C], 'attprojb': [L, C],
        'ln2w': [L, C], 'ln2b': [L, C] if bias else None,
        'fcw': [L, H, C], 'fcb': [L, H], 'fcprojw': [L, C, H], 'fcprojb': [L, C],
        'lnfw': [C], 'lnfb': [C] if bias else None,
        'lmhead': None if config['tiedEmbeddings'] else [V, C],
    }


def make_weights(config, generator):
    """Integer weights: matrices ~ normal(0, 0.08), norm weights ~ 1 + normal(0, 0.1), biases ~ normal(0, 0.05).
    Larger than GPT-2's init on purpose, so the nonlinearities are exercised away from their linear regime."""
    weights = {}
    for name, shape in shapes(config).items():
        if shape is None:
            continue
        noise = torch.randn(shape, generator=generator, dtype=torch.float64)
        if name in ('ln1w', 'ln2w', 'lnfw'):
            values = 1 + 0.1 * noise
        elif name.endswith('b'):
            values = 0.05 * noise
        else:
            values = 0.08 * noise
        weights[name] = torch.round(values * WEIGHT_SCALE).to(torch.int64)
    return weights


def rmsnorm(x, weight):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + RMSNORM_EPSILON) * weight


def forward(params, config, inputs, targets):
    B, T = inputs.shape
    C, NH, L = config['width'], config['heads'], config['layers']
    hs = C // NH

    def norm(x, weight, bias):
        if config['norm'] == 'layernorm':
            return F.layer_norm(x, (C,), weight, bias, eps=LAYERNORM_EPSILON)
        return rmsnorm(x, weight)

    def activation(x):
        return F.gelu(x, approximate='tanh') if config['activation'] == 'gelu' else F.relu(x).pow(2)

    def bias_of(name, l):
        return params[name][l] if name in params else None

    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    x = params['wte'][inputs] + params['wpe'][:T]
    for l in range(L):
        h = norm(x, params['ln1w'][l], bias_of('ln1b', l))
        qkv = F.linear(h, params['qkvw'][l], params['qkvb'][l])
        q, k, v = (part.view(B, T, NH, hs).transpose(1, 2) for part in qkv.split(C, dim=-1))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        attention = torch.softmax(scores.masked_fill(~causal, float('-inf')), dim=-1)
        y = (attention @ v).transpose(1, 2).reshape(B, T, C)
        x = x + F.linear(y, params['attprojw'][l], params['attprojb'][l])
        h = norm(x, params['ln2w'][l], bias_of('ln2b', l))
        h = activation(F.linear(h, params['fcw'][l], params['fcb'][l]))
        x = x + F.linear(h, params['fcprojw'][l], params['fcprojb'][l])
    x = norm(x, params['lnfw'], params.get('lnfb'))
    head = params['wte'] if config['tiedEmbeddings'] else params['lmhead']
    logits = F.linear(x, head)
    loss = F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))
    return logits, loss


def make_case(case):
    config = case['config']
    generator = torch.Generator().manual_seed(case['seed'])
    integer_weights = make_weights(config, generator)
    params = {name: (k.to(torch.float64) / WEIGHT_SCALE).requires_grad_(True) for name, k in integer_weights.items()}
    B, T, V = case['batch'], case['sequence'], config['vocabSize']
    inputs = torch.randint(0, V, (B, T), generator=generator)
    targets = torch.randint(0, V, (B, T), generator=generator)
    logits, loss = forward(params, config, inputs, targets)
    loss.backward()
    positions = [(0, 0), (0, T - 1), (B - 1, T // 2)]
    return {
        'name': case['name'],
        'config': config,
        'batchSize': B,
        'sequenceLength': T,
        'inputs': inputs.flatten().tolist(),
        'targets': targets.flatten().tolist(),
        'weights': {name: k.flatten().tolist() for name, k in integer_weights.items()},
        'loss': loss.item(),
        'logits': [{'b': b, 't': t, 'values': logits[b, t].tolist()} for b, t in positions],
        'gradients': {
            name: {'norm': p.grad.norm().item(), 'head': p.grad.flatten()[:GRADIENT_HEAD].tolist()}
            for name, p in params.items()
        },
    }


def main():
    torch.set_grad_enabled(True)
    fixture = {
        'about': 'Golden values for src/gpt/model.ts from an independent PyTorch float64 implementation. '
                 'Regenerate: /usr/bin/python3 scripts/golden-fixture.py > test/gpt/fixtures/golden.json',
        'torchVersion': torch.__version__,
        'weightScale': WEIGHT_SCALE,
        'epsilons': {'layernorm': LAYERNORM_EPSILON, 'rmsnorm': RMSNORM_EPSILON},
        'cases': [make_case(case) for case in CASES],
    }
    text = json.dumps(fixture, indent=1)
    # one line per numeric array keeps the file small and its diffs readable
    text = re.sub(r'\[\s*([-0-9.e+,\s]*?)\s*\]', lambda match: '[' + re.sub(r'\s+', '', match.group(1)) + ']', text)
    sys.stdout.write(text + '\n')


if __name__ == '__main__':
    main()
