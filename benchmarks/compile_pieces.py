"""Issue 16, fusion: the default ETTh1 training step with the feed-forward expansion (Linear + GELU)
and the distilling block compiled by torch.compile, against eager; run each twice, alternating:

    for m in eager compile eager compile; do python benchmarks/compile_pieces.py $m [amp]; done

Prints the first step (compilation included) and the median of steps 5-14.
"""
import sys, time, torch
from informer.config import DataConfig, ModelConfig
from informer.data.pipeline import prepare
from informer.model.forecaster import build_forecaster
from informer.training.loop import make_optimizer, train_step
from torch.utils.data import DataLoader
mode = sys.argv[1]
amp = len(sys.argv) > 2
data = prepare(DataConfig(data="ETTh1"), embed="timeF")
torch.manual_seed(0)
model = build_forecaster(ModelConfig(), enc_in=7, c_out=7, seq_len=96, label_len=48, pred_len=24, freq="h")
if mode == "compile":
    import informer.model.encoder as E
    for m in model.modules():
        if isinstance(m, E.DistillingLayer):
            m.forward = torch.compile(m.forward)
        if isinstance(m, E.FeedForward):
            inner = torch.compile(lambda x, m=m: m.activation(m.expand(x)))
            def fwd(x, m=m, inner=inner):
                return m.dropout(m.contract(m.dropout(inner(x))))
            m.forward = fwd
loader = DataLoader(data.dataset("train"), batch_size=32, shuffle=True, drop_last=True, generator=torch.Generator().manual_seed(0))
opt = make_optimizer(model, lr=1e-4)
sc = torch.amp.GradScaler("cuda", enabled=False)
gen = torch.Generator().manual_seed(1)
it = iter(loader)
times = []
start = time.perf_counter()
for i in range(14):
    b = next(it)
    t = time.perf_counter()
    train_step(model, b, optimizer=opt, criterion=torch.nn.MSELoss(), grad_scaler=sc, features="M", device=torch.device("cpu"), generator=gen, amp=amp)
    times.append(time.perf_counter() - t)
times_sorted = sorted(times[4:])
print(mode, "amp" if amp else "fp32", "first", round(times[0], 2), "median", round(times_sorted[len(times_sorted)//2], 3))
