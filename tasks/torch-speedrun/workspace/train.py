"""Trains the GPT of model.py on the byte-level text in --data-dir until its validation loss reaches the config's
target, then writes the checkpoint to --out and a greppable `key: value` summary to stdout.

    python3 train.py --config config.json --data-dir INPUTS --out artifacts/checkpoint

The harness scores the checkpoint on a test split this run never sees; the clock is the harness's. Everything in
this folder may change: the optimizer, the schedule, the model (within the checkpoint's family), the batching.
"""
import argparse
import json
import math
import os
import time

if 'avx512f' in open('/proc/cpuinfo').read() and 'OPENBLAS_CORETYPE' not in os.environ:
    os.environ['OPENBLAS_CORETYPE'] = 'SkylakeX'  # Debian's OpenBLAS takes its slow generic path on newer AVX-512 CPUs

import torch

from checkpoint import save_checkpoint
from model import Gpt


def read_bytes(path):
    with open(path, 'rb') as file:
        return torch.tensor(list(file.read()), dtype=torch.long)


def evaluate(model, tokens, context, max_tokens):
    """Mean loss over non-overlapping windows of the first max_tokens targets (as the scorer counts)."""
    scored = min(max_tokens, len(tokens) - 1)
    windows = scored // context
    inputs = tokens[:windows * context].view(windows, context)
    targets = tokens[1:windows * context + 1].view(windows, context)
    model.eval()
    with torch.no_grad():
        loss = sum(model(inputs[first:first + 64], targets[first:first + 64]).item() * len(inputs[first:first + 64])
                   for first in range(0, windows, 64)) / windows
    model.train()
    return loss


def learning_rate(config, step):
    peak, warmup, horizon = config['learningRate'], config['warmupSteps'], config['maxSteps']
    if step < warmup:
        return peak * (step + 1) / warmup
    floor = peak * config['minLearningRateRatio']
    progress = min(1.0, (step - warmup) / max(1, horizon - warmup))
    if config['schedule'] == 'constant':
        return peak
    if config['schedule'] == 'linear':
        return peak - (peak - floor) * progress
    return floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--config', default='config.json')
    parser.add_argument('--data-dir', default=os.environ.get('SUCCESSOR_INPUTS', 'data'))
    parser.add_argument('--out', default='artifacts/checkpoint')
    arguments = parser.parse_args()
    with open(arguments.config) as file:
        config = json.load(file)
    torch.manual_seed(config['seed'])
    torch.set_num_threads(config['threads'])
    architecture = config['model']
    context = architecture['contextLength']
    model = Gpt(256, context, architecture['layers'], architecture['heads'], architecture['width'],
                architecture['norm'], architecture['activation'])
    decayed = [parameter for parameter in model.parameters() if parameter.dim() == 2]
    other = [parameter for parameter in model.parameters() if parameter.dim() != 2]
    optimizer = torch.optim.AdamW([{'params': decayed, 'weight_decay': config['weightDecay']}, {'params': other, 'weight_decay': 0.0}],
                                  lr=config['learningRate'], betas=(0.9, config['beta2']), eps=1e-8)
    train = read_bytes(os.path.join(arguments.data_dir, 'train.txt'))
    val = read_bytes(os.path.join(arguments.data_dir, 'val.txt'))
    B = config['batchSize']
    started = time.perf_counter()
    val_loss, step = float('inf'), 0
    for step in range(1, config['maxSteps'] + 1):
        starts = torch.randint(0, len(train) - context - 1, (B,))
        inputs = torch.stack([train[start:start + context] for start in starts])
        targets = torch.stack([train[start + 1:start + context + 1] for start in starts])
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(config, step - 1)
        loss = model(inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config['gradClip'] > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config['gradClip'])
        optimizer.step()
        if step % config['evalInterval'] == 0:
            val_loss = evaluate(model, val, context, config['evalTokens'])
            print(f'step {step} train_loss {loss.item():.4f} val_loss {val_loss:.4f} seconds {time.perf_counter() - started:.1f}', flush=True)
            if val_loss <= config['targetValLoss']:
                break
    save_checkpoint(arguments.out, model)
    print(f'steps: {step}')
    print(f'tokens: {step * B * context}')
    print(f'val_loss: {val_loss:.4f}')
    print(f'train_seconds: {time.perf_counter() - started:.2f}')


if __name__ == '__main__':
    main()
