#!/usr/bin/env python3
"""PyTorch twin of bench/train.ts: trains the successor's benchmark GPT with the same shapes, batch and optimizer,
and prints a greppable `key: value` summary (tokens_per_second, seconds_per_step, loss), and which BLAS the process
really loaded (blas_kind, blas_core, blas_config: read from /proc/self/maps and the library itself). A speed
reference only.

Usage (Debian's python3-torch; the pyenv `python3` on PATH has no torch):
    /usr/bin/python3 bench/pytorch-train.py --steps 20 --warmup 3 --threads 2
    /usr/bin/python3 bench/pytorch-train.py --threads 2 --data-dir DIR --target-loss 2.5 --max-seconds 120
The second form trains on DIR/train.txt (byte tokens) with the successor trainer's recipe (src/gpt/train.ts:
random windows, warmup then cosine schedule, validation every 50 steps on the first 16384 tokens of DIR/val.txt in
the windows of src/gpt/evaluate.ts) and prints the wall time until the validation loss reaches the target.
bench/train.ts sets OPENBLAS_CORETYPE=SkylakeX only on a CPU with AVX-512 (OpenBLAS's own detection otherwise).

The model is src/gpt/model.ts in torch modules: token + position embedding, pre-norm blocks (LayerNorm, causal
self-attention with a fused qkv projection, GELU tanh MLP of width 4C), final LayerNorm, LM head tied to the
token embedding; AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices only), gradient clipping at 1.0.
Attention is written out (softmax of masked scores): torch 1.13 has no scaled_dot_product_attention.
Tokens are random bytes, as in bench/train.ts: the work per step does not depend on the data.
"""
import argparse
import ctypes
import math
import os
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, width, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.attproj = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc = nn.Linear(width, mlp_ratio * width)
        self.fcproj = nn.Linear(mlp_ratio * width, width)

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (tensor.view(B, T, self.heads, C // self.heads).transpose(1, 2) for tensor in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.heads))
        attention = F.softmax(scores.masked_fill(mask[:T, :T], float('-inf')), dim=-1)
        y = (attention @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + self.attproj(y)
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate='tanh'))


class Gpt(nn.Module):
    def __init__(self, vocab, context, layers, heads, width, mlp_ratio):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads, mlp_ratio) for _ in range(layers))
        self.lnf = nn.LayerNorm(width)
        self.register_buffer('mask', torch.triu(torch.ones(context, context, dtype=torch.bool), diagonal=1))
        for name, parameter in self.named_parameters():
            if parameter.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(('attproj.weight', 'fcproj.weight')) else 0.02
                nn.init.normal_(parameter, 0.0, std)
            elif name.endswith('bias'):
                nn.init.zeros_(parameter)

    def forward(self, inputs, targets):
        B, T = inputs.shape
        x = self.wte(inputs) + self.wpe(torch.arange(T))
        for block in self.blocks:
            x = block(x, self.mask)
        logits = self.lnf(x) @ self.wte.weight.t()  # tied LM head
        return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))


def blas_in_use():
    """The BLAS this process loaded: (kind, core, config). Call after a matmul has run."""
    with open('/proc/self/maps') as maps:
        paths = sorted({line.split()[-1] for line in maps if '/' in line and ('blas' in line or 'mkl' in line or 'blis' in line)})
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(library, 'openblas_get_config'):
            library.openblas_get_config.restype = ctypes.c_char_p
            library.openblas_get_corename.restype = ctypes.c_char_p
            return 'openblas', library.openblas_get_corename().decode(), f'{library.openblas_get_config().decode()} ({path})'
        if hasattr(library, 'mkl_get_version_string'):
            buffer = ctypes.create_string_buffer(256)
            library.mkl_get_version_string(buffer, 256)
            return 'mkl', '', f'{buffer.value.decode()} ({path})'
        if hasattr(library, 'bli_info_get_version_str'):
            library.bli_info_get_version_str.restype = ctypes.c_char_p
            return 'blis', '', f'BLIS {library.bli_info_get_version_str().decode()} ({path})'
    reference = [path for path in paths if 'libblas' in path]
    if reference:
        return 'reference', '', f'a reference BLAS ({reference[0]})'
    return 'unknown', '', 'no BLAS library found in the process'


def learning_rate_at(step, rate=1e-3, warmup=20, max_steps=2000, minimum_ratio=0.1):
    """src/gpt/schedule.ts, cosine."""
    if step < warmup:
        return rate * (step + 1) / warmup
    minimum = rate * minimum_ratio
    progress = min(1.0, max(0.0, (step - warmup) / max(1, max_steps - warmup)))
    return minimum + 0.5 * (1 + math.cos(math.pi * progress)) * (rate - minimum)


@torch.no_grad()
def validation_loss(model, tokens, batch_size, context, max_tokens=16384):
    """src/gpt/evaluate.ts evaluateTokens: non-overlapping windows, every target scored once."""
    model.eval()
    scored = min(max_tokens, len(tokens) - 1)
    windows = scored // context
    loss_sum = 0.0
    for first in range(0, windows, batch_size):
        rows = min(batch_size, windows - first)
        starts = torch.arange(first, first + rows) * context
        index = starts[:, None] + torch.arange(context)[None, :]
        loss_sum += model(tokens[index], tokens[index + 1]).item() * rows * context
    remainder = scored - windows * context
    if remainder > 0:
        start = windows * context
        loss_sum += model(tokens[start:start + remainder][None, :], tokens[start + 1:start + remainder + 1][None, :]).item() * remainder
    model.train()
    return loss_sum / scored


def time_to_loss(model, optimizer, arguments, B, context):
    def read(name):
        with open(os.path.join(arguments.data_dir, name), 'rb') as file:
            return torch.tensor(list(file.read()), dtype=torch.long)
    train_tokens, val_tokens = read('train.txt'), read('val.txt')
    started = time.perf_counter()
    step, val = 0, float('nan')
    while time.perf_counter() - started < arguments.max_seconds:
        starts = torch.randint(0, len(train_tokens) - context, (B,))
        index = starts[:, None] + torch.arange(context)[None, :]
        for group in optimizer.param_groups:
            group['lr'] = learning_rate_at(step)
        loss = model(train_tokens[index], train_tokens[index + 1])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 50 == 0:
            val = validation_loss(model, val_tokens, B, context)
            if val <= arguments.target_loss:
                break
    seconds = time.perf_counter() - started
    print(f'steps: {step}')
    print(f'val_loss: {val:.4f}')
    print(f'reached_target: {str(val <= arguments.target_loss).lower()}')
    print(f'seconds: {seconds:.2f}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--data-dir', help='train on DIR/train.txt until the validation loss reaches --target-loss')
    parser.add_argument('--target-loss', type=float, default=2.5)
    parser.add_argument('--max-seconds', type=float, default=120)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(1337)
    vocab, context = 256, 128
    model = Gpt(vocab, context, layers=4, heads=4, width=128, mlp_ratio=4)
    decayed = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() != 2]
    optimizer = torch.optim.AdamW([{'params': decayed, 'weight_decay': 0.1}, {'params': other, 'weight_decay': 0.0}],
                                  lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    B = arguments.batch_size
    torch.ones(64, 64) @ torch.ones(64, 64)  # loads the BLAS
    kind, core, config = blas_in_use()
    print(f'torch: {torch.__version__}')
    print(f'blas_kind: {kind}')
    print(f'blas_core: {core}')
    print(f'blas_config: {config}')
    print(f'threads: {torch.get_num_threads()}')
    if arguments.data_dir:
        time_to_loss(model, optimizer, arguments, B, context)
        return
    loss = float('nan')
    started = 0.0
    cpu_started = resource.getrusage(resource.RUSAGE_SELF)
    for step in range(arguments.warmup + arguments.steps):
        if step == arguments.warmup:
            started = time.perf_counter()
            cpu_started = resource.getrusage(resource.RUSAGE_SELF)
        inputs = torch.randint(0, vocab, (B, context))
        targets = torch.randint(0, vocab, (B, context))
        loss = model(inputs, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    seconds = time.perf_counter() - started
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu_seconds = cpu.ru_utime + cpu.ru_stime - cpu_started.ru_utime - cpu_started.ru_stime
    print(f'parameters: {sum(p.numel() for p in model.parameters())}')
    print(f'tokens_per_second: {arguments.steps * B * context / seconds:.1f}')
    print(f'seconds_per_step: {seconds / arguments.steps:.4f}')
    print(f'cpu_seconds_per_step: {cpu_seconds / arguments.steps:.4f}')  # all threads; OpenMP spin-waits count too
    print(f'loss: {loss.item():.4f}')


if __name__ == '__main__':
    main()
