#!/usr/bin/env python3
"""Reference outputs of the bundled stories260K model, from Hugging Face transformers.

Writes tests/fixtures/stories260K/reference.json:
  {"tool": ..., "cases": [{"prompt": str, "ids": [...], "greedy": [...],
                          "logits_last": [...vocab floats...]}, ...]}
- ids: tokenizer(prompt) with special tokens (BOS), as `slm run -p PROMPT` sees them;
- greedy: model.generate(do_sample=False, max_new_tokens=64) new ids, stopping at the
  generation_config eos ids like slm does (the eos id itself is not included);
- logits_last: float32 logits of the last prompt position.
Run with the project venv: .venv/bin/python tools/make_stories_fixtures.py
"""
import json
import pathlib

import torch
import transformers
from transformers import AutoTokenizer, LlamaForCausalLM

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "weights" / "stories260K"
OUT = ROOT / "tests" / "fixtures" / "stories260K" / "reference.json"

PROMPTS = [
    "",
    "Once upon a time",
    "Lily and Tom went to the park",
    "The little dog was sad because",
    "One day, a big fish said \"Hello!\"",
    "Ben liked to play with his red ball.\nHe",
]


def main():
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(MODEL)
    model = LlamaForCausalLM.from_pretrained(MODEL, torch_dtype=torch.float32).eval()
    eos = set(model.generation_config.eos_token_id)
    cases = []
    for prompt in PROMPTS:
        ids = tok(prompt, add_special_tokens=True)["input_ids"]
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = model(x).logits[0, -1].tolist()
            out = model.generate(x, do_sample=False, max_new_tokens=64,
                                 attention_mask=torch.ones_like(x))[0, len(ids):].tolist()
        greedy = []
        for t in out:
            if t in eos:
                break
            greedy.append(t)
        cases.append({"prompt": prompt, "ids": ids, "greedy": greedy,
                      "text": tok.decode(greedy, skip_special_tokens=True),
                      "logits_last": [float(v) for v in logits]})
    OUT.write_text(json.dumps({"tool": f"transformers {transformers.__version__}, torch "
                                       f"{torch.__version__}", "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
