"""A distillation loss in PyTorch on rows read by read_kd.py (sparse: no dense teacher vector).

For a student that shares the teacher's vocabulary (for another vocabulary, map the teacher ids
first with the map `kd align` builds). Row r of a document is the teacher's distribution for the
token after position r, so it pairs with the student's logits at position r of the same token ids.

    loss = alpha * tau**2 * KL(teacher || student at temperature tau) + (1 - alpha) * CE(next token)

The teacher's tail mass (probability not kept) is one extra bucket: the student's mass outside
the kept ids.
"""
import torch
import torch.nn.functional as F

from read_kd import read_dataset


def sparse_kd_loss(student_logits, doc, alpha=0.5, tau=1.0):
    """student_logits: [T, V] for the document's token_ids (T positions); doc: one read_kd document."""
    rows = len(doc["tail_mass"])
    logits = student_logits[:rows]
    row_of_entry = torch.repeat_interleave(torch.arange(rows), torch.from_numpy(doc["row_offsets"]).diff())
    ids = torch.from_numpy(doc["ids"])
    p = torch.from_numpy(doc["probs"]).to(logits.dtype)
    tail = torch.from_numpy(doc["tail_mass"]).to(logits.dtype)
    # Quantized rows sum to 1 only within the scheme's error: renormalize kept + tail.
    total = torch.zeros(rows, dtype=logits.dtype).index_add_(0, row_of_entry, p) + tail
    p, tail = p / total[row_of_entry], tail / total
    log_q = F.log_softmax(logits / tau, dim=-1)
    log_q_kept = log_q[row_of_entry, ids]
    q_kept = torch.zeros(rows, dtype=logits.dtype).index_add_(0, row_of_entry, log_q_kept.exp())
    log_q_tail = torch.log1p(-q_kept.clamp(max=1 - 1e-6))
    eps = 1e-12
    kl = (p * (torch.log(p + eps) - log_q_kept)).sum() + (tail * (torch.log(tail + eps) - log_q_tail)).sum()
    token_ids = torch.from_numpy(doc["token_ids"])
    ce = F.cross_entropy(student_logits[:-1], token_ids[1:]) if len(token_ids) > 1 else logits.sum() * 0
    return alpha * tau**2 * kl / max(rows, 1) + (1 - alpha) * ce


if __name__ == "__main__":
    import sys

    vocab_size = int(sys.argv[2])
    model = torch.nn.Sequential(torch.nn.Embedding(vocab_size, 64), torch.nn.Linear(64, vocab_size))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for doc in read_dataset(sys.argv[1]):
        logits = model(torch.from_numpy(doc["token_ids"]))
        loss = sparse_kd_loss(logits, doc)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print(f"document {doc['index']}: loss {loss.item():.4f}")
