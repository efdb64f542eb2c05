"""The model: a small GPT in PyTorch, nanoGPT style (token + position embedding, pre-norm blocks of causal
self-attention with a fused qkv projection and a 4C MLP, a final norm, an LM head tied to the token embedding).

It is the lab's reference GPT family (src/gpt/model.ts), so the checkpoint it leaves (checkpoint.py) is read by the
task's trusted scorer and by `successor eval` / `successor sample`. Change anything here; the checkpoint must stay in
that family: LayerNorm or RMSNorm (eps 1e-5), GELU (tanh) or ReLU², MLP width 4C, tied embeddings.

Dimension letters: B batch, T sequence length, C width, V vocabulary, NH heads, hs head size = C / NH.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RmsNorm(nn.Module):
    def __init__(self, width, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def make_norm(kind, width):
    return nn.LayerNorm(width, eps=1e-5) if kind == 'layernorm' else RmsNorm(width)


class Block(nn.Module):
    def __init__(self, width, heads, norm, activation):
        super().__init__()
        self.heads = heads
        self.activation = activation
        self.ln_1 = make_norm(norm, width)
        self.c_attn = nn.Linear(width, 3 * width)
        self.attn_proj = nn.Linear(width, width)
        self.ln_2 = make_norm(norm, width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.mlp_proj = nn.Linear(4 * width, width)

    def forward(self, x, mask):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (tensor.view(B, T, self.heads, C // self.heads).transpose(1, 2) for tensor in (q, k, v))  # (B, NH, T, hs)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.heads))  # (B, NH, T, T)
        attention = F.softmax(scores.masked_fill(mask[:T, :T], float('-inf')), dim=-1)
        x = x + self.attn_proj((attention @ v).transpose(1, 2).contiguous().view(B, T, C))
        hidden = self.c_fc(self.ln_2(x))  # (B, T, 4C)
        hidden = F.gelu(hidden, approximate='tanh') if self.activation == 'gelu' else F.relu(hidden).square()
        return x + self.mlp_proj(hidden)


class Gpt(nn.Module):
    def __init__(self, vocab_size, context_length, layers, heads, width, norm='layernorm', activation='gelu'):
        super().__init__()
        self.config = dict(vocabSize=vocab_size, contextLength=context_length, layers=layers, heads=heads, width=width,
                           mlpRatio=4, norm=norm, activation=activation, tiedEmbeddings=True)
        self.wte = nn.Embedding(vocab_size, width)
        self.wpe = nn.Embedding(context_length, width)
        self.blocks = nn.ModuleList(Block(width, heads, norm, activation) for _ in range(layers))
        self.ln_f = make_norm(norm, width)
        self.register_buffer('mask', torch.triu(torch.ones(context_length, context_length, dtype=torch.bool), diagonal=1), persistent=False)
        for name, parameter in self.named_parameters():
            if parameter.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith('proj.weight') else 0.02
                nn.init.normal_(parameter, 0.0, std)
            elif name.endswith('bias'):
                nn.init.zeros_(parameter)

    def forward(self, inputs, targets=None):
        B, T = inputs.shape
        x = self.wte(inputs) + self.wpe(torch.arange(T))  # (B, T, C)
        for block in self.blocks:
            x = block(x, self.mask)
        logits = self.ln_f(x) @ self.wte.weight.t()  # (B, T, V), the tied head
        if targets is None:
            return logits
        return F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T))

    def nanogpt_tensors(self):
        """The weights under nanoGPT's names, in file order: what checkpoint.py writes."""
        tensors = {'transformer.wte.weight': self.wte.weight, 'transformer.wpe.weight': self.wpe.weight}
        tensors['transformer.ln_f.weight'] = self.ln_f.weight
        if isinstance(self.ln_f, nn.LayerNorm):
            tensors['transformer.ln_f.bias'] = self.ln_f.bias
        for index, block in enumerate(self.blocks):
            prefix = f'transformer.h.{index}.'
            parts = [('ln_1', block.ln_1), ('attn.c_attn', block.c_attn), ('attn.c_proj', block.attn_proj),
                     ('ln_2', block.ln_2), ('mlp.c_fc', block.c_fc), ('mlp.c_proj', block.mlp_proj)]
            for name, module in parts:
                tensors[f'{prefix}{name}.weight'] = module.weight
                if getattr(module, 'bias', None) is not None:
                    tensors[f'{prefix}{name}.bias'] = module.bias
        return tensors
