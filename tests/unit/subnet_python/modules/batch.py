"""batch_serve: one call per batch; returned exceptions fail their request only."""
import merit_subnet


def batch_serve(config, requests):
    if requests and requests[0] == b"explode":
        raise KeyError("the whole batch failed")
    if requests and requests[0] == b"short":
        return []
    out = []
    for r in requests:
        if r == b"bad":
            out.append(merit_subnet.InvalidRequest("bad one"))
        elif r == b"raise":
            out.append(RuntimeError("this one failed"))
        else:
            out.append(r.upper())
    out[0:0] = []  # keep it a list
    return out
