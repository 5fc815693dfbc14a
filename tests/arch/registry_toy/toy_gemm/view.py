import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def cycles_by_design(df, params, title, label):
    if "metric.cycles" not in df.columns:
        return None
    fig, ax = plt.subplots()
    labels = [label(r, params) for _, r in df.iterrows()]
    ax.bar(range(len(df)), df["metric.cycles"])
    ax.set_title(title)
    return fig, {"labels": labels, "cycles": df["metric.cycles"].tolist()}


VIEWS = [("cycles", cycles_by_design, "cycles per design")]
