using System.Text.Json;

namespace ToyChatVector;

/// <summary>Draws the ratio sweep (in-format and exact rates of cp + r·v and cp+FT + r·v) as a PNG with ScottPlot.</summary>
public static class SweepChart
{
    /// <summary><paramref name="resultsJson"/>: the experiment script's rows (Series, Ratio, InFormat, Exact, Perplexity).</summary>
    public static void Draw(string resultsJson, string png, string title)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(resultsJson));
        var rows = document.RootElement.EnumerateArray().Select(r => (
            Series: r.GetProperty("Series").GetString()!,
            Ratio: r.GetProperty("Ratio").GetDouble(),
            InFormat: r.GetProperty("InFormat").GetDouble(),
            Exact: r.GetProperty("Exact").GetDouble())).ToList();
        var plot = new ScottPlot.Plot();
        foreach (var (series, color) in new[] { ("cp", ScottPlot.Colors.Blue), ("cp+FT", ScottPlot.Colors.OrangeRed) })
        {
            var points = rows.Where(r => r.Series == series).OrderBy(r => r.Ratio).ToList();
            if (points.Count == 0) continue;
            var xs = points.Select(p => p.Ratio).ToArray();
            var inFormat = plot.Add.Scatter(xs, points.Select(p => p.InFormat).ToArray(), color);
            inFormat.LegendText = $"{series} + r·v: in format %";
            inFormat.LineWidth = 2;
            var exact = plot.Add.Scatter(xs, points.Select(p => p.Exact).ToArray(), color);
            exact.LegendText = $"{series} + r·v: exact %";
            exact.LinePattern = ScottPlot.LinePattern.Dashed;
            exact.LineWidth = 2;
        }
        plot.Title(title);
        plot.XLabel("ratio r of the chat vector v = chat - base");
        plot.YLabel("held-out B prompts (%)");
        plot.Axes.SetLimits(-0.05, 1.05, -2, 102);
        plot.ShowLegend(ScottPlot.Edge.Right); // beside the plot: inside, it hides points
        plot.SavePng(png, 900, 420);
    }
}
