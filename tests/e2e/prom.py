"""A strict reader of Prometheus' text exposition format (0.0.4) for the tests.

scrape(daemon) fetches /metrics from the admin port and checks the shape of
every line as it reads it: a sample line that does not parse, a sample whose
family has no # TYPE, or a histogram whose buckets are not cumulative fails
the test at once, before any value is looked at.
"""

import re
import urllib.request

SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.eE+]+|\+Inf|NaN)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


class Metrics:
    def __init__(self, text):
        self.text = text
        self.types = {}
        self.samples = {}
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                assert kind in ("counter", "gauge", "histogram"), line
                self.types[name] = kind
                continue
            if line.startswith("#") or not line:
                continue
            m = SAMPLE.fullmatch(line)
            assert m, f"not a sample line: {line!r}"
            name, raw, value = m.groups()
            labels = tuple(sorted(LABEL.findall(raw or "")))
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in self.types or self.types.get(family) == "histogram", f"no # TYPE for {name}"
            assert (name, labels) not in self.samples, f"duplicate sample {line!r}"
            self.samples[(name, labels)] = float(value)
        self._check_histograms()

    def _check_histograms(self):
        for family, kind in self.types.items():
            if kind != "histogram":
                continue
            series = {}
            for (name, labels), v in self.samples.items():
                if name == family + "_bucket":
                    rest = tuple(x for x in labels if x[0] != "le")
                    le = dict(labels)["le"]
                    series.setdefault(rest, []).append((float("inf") if le == "+Inf" else float(le), v))
            for rest, buckets in series.items():
                buckets.sort()
                counts = [v for _, v in buckets]
                assert counts == sorted(counts), f"{family}{rest}: buckets not cumulative"
                assert buckets[-1][0] == float("inf")
                assert counts[-1] == self.get(family + "_count", **dict(rest))

    def get(self, name, default=None, **labels):
        key = (name, tuple(sorted(labels.items())))
        if key not in self.samples:
            if default is not None:
                return default
            raise KeyError(f"no sample {name}{labels}")
        return self.samples[key]


def scrape(daemon):
    with urllib.request.urlopen(f"http://127.0.0.1:{daemon.admin_port}/metrics", timeout=5) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return Metrics(resp.read().decode("utf-8"))
