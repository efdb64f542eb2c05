#!/usr/bin/env python3
"""PyTorch twin of bench/train.ts: trains the successor's benchmark GPT with the same shapes, batch and optimizer,
and prints a greppable `key: value` summary (tokens_per_second, seconds_per_step, loss). A speed reference only.

Usage (Debian's python3-torch; the pyenv `python3` on PATH has no torch):
    OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 bench/pytorch-train.py --steps 20 --warmup 3 --threads 2

The model is src/gpt/model.ts in torch modules: token + position embedding, pre-norm blocks (LayerNorm, causal
self-attention with a fused qkv projection, GELU tanh MLP of width 4C), final LayerNorm, LM head tied to the
token embedding; AdamW (betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices only), gradient clipping at 1.0.
Attention is written out (softmax of masked scores): torch 1.13 has no scaled_dot_product_attention.
Tokens are random bytes, as in bench/train.ts: the work per step does not depend on the data.
"""
import argparse
import math
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=32)
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
    print(f'threads: {torch.get_num_threads()}')
    print(f'tokens_per_second: {arguments.steps * B * context / seconds:.1f}')
    print(f'seconds_per_step: {seconds / arguments.steps:.4f}')
    print(f'cpu_seconds_per_step: {cpu_seconds / arguments.steps:.4f}')  # all threads; OpenMP spin-waits count too
    print(f'loss: {loss.item():.4f}')


if __name__ == '__main__':
    main()
