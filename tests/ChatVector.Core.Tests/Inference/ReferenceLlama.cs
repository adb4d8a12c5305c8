namespace ChatVector.Core.Tests.Inference;

/// <summary>
/// The LLaMA forward pass written out plainly, in double precision over float arrays, one position
/// at a time, from the facts in docs (not from the production code): the expectation the tensor
/// implementation is checked against.
/// </summary>
internal static class ReferenceLlama
{
    /// <summary>Logits [position][vocab] of <paramref name="ids"/>.</summary>
    public static double[][] Logits(RandomLlama m, IReadOnlyList<long> ids, double[] invFreq)
    {
        var w = m.Values;
        int T = ids.Count, H = m.Hidden, hd = m.HeadDim, nh = m.Heads, nkv = m.KvHeads, group = nh / nkv;
        var x = new double[T][];
        for (int t = 0; t < T; t++) x[t] = Row(w["model.embed_tokens.weight"], (int)ids[t], H);

        for (int l = 0; l < m.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            var q = new double[T][]; var k = new double[T][]; var v = new double[T][];
            for (int t = 0; t < T; t++)
            {
                var n = Norm(x[t], w[p + "input_layernorm.weight"], m.Eps);
                q[t] = Project(w[p + "self_attn.q_proj.weight"], m.Biases ? w[p + "self_attn.q_proj.bias"] : null, n, nh * hd);
                k[t] = Project(w[p + "self_attn.k_proj.weight"], m.Biases ? w[p + "self_attn.k_proj.bias"] : null, n, nkv * hd);
                v[t] = Project(w[p + "self_attn.v_proj.weight"], m.Biases ? w[p + "self_attn.v_proj.bias"] : null, n, nkv * hd);
                for (int h = 0; h < nh; h++) Rotate(q[t], h * hd, hd, t, invFreq);
                for (int h = 0; h < nkv; h++) Rotate(k[t], h * hd, hd, t, invFreq);
            }
            for (int t = 0; t < T; t++)
            {
                var attended = new double[nh * hd];
                for (int h = 0; h < nh; h++)
                {
                    int kvh = h / group;
                    var scores = new double[t + 1];
                    for (int j = 0; j <= t; j++)
                    {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += q[t][h * hd + d] * k[j][kvh * hd + d];
                        scores[j] = dot / Math.Sqrt(hd);
                    }
                    double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                    for (int j = 0; j <= t; j++)
                    {
                        double a = Math.Exp(scores[j] - max) / sum;
                        for (int d = 0; d < hd; d++) attended[h * hd + d] += a * v[j][kvh * hd + d];
                    }
                }
                var o = Project(w[p + "self_attn.o_proj.weight"], null, attended, H);
                var h1 = new double[H];
                for (int i = 0; i < H; i++) h1[i] = x[t][i] + o[i];
                var n2 = Norm(h1, w[p + "post_attention_layernorm.weight"], m.Eps);
                var gate = Project(w[p + "mlp.gate_proj.weight"], null, n2, m.Intermediate);
                var up = Project(w[p + "mlp.up_proj.weight"], null, n2, m.Intermediate);
                var act = new double[m.Intermediate];
                for (int i = 0; i < act.Length; i++) act[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
                var down = Project(w[p + "mlp.down_proj.weight"], null, act, H);
                for (int i = 0; i < H; i++) h1[i] += down[i];
                x[t] = h1;
            }
        }
        var head = w[m.Tied ? "model.embed_tokens.weight" : "lm_head.weight"];
        return x.Select(row => Project(head, null, Norm(row, w["model.norm.weight"], m.Eps), m.Vocab)).ToArray();
    }

    /// <summary>inv_freq per the docs: 1/θ^(2i/d), then linear (÷ factor) or llama3 (by wavelength).</summary>
    public static double[] InverseFrequencies(int headDim, double theta, string? type, double factor = 1, double low = 1, double high = 4, double old = 8192)
    {
        var result = new double[headDim / 2];
        for (int i = 0; i < result.Length; i++)
        {
            double f = 1 / Math.Pow(theta, 2.0 * i / headDim);
            if (type == "linear") f /= factor;
            else if (type == "llama3")
            {
                double wavelength = 2 * Math.PI / f;
                if (wavelength > old / low) f /= factor;
                else if (wavelength >= old / high)
                {
                    double s = (old / wavelength - low) / (high - low);
                    f = (1 - s) * f / factor + s * f;
                }
            }
            result[i] = f;
        }
        return result;
    }

    /// <summary>Mean negative log-softmax of each next token.</summary>
    public static double Nll(double[][] logits, IReadOnlyList<long> ids)
    {
        double total = 0;
        for (int t = 0; t + 1 < ids.Count; t++)
        {
            double max = logits[t].Max();
            double logSum = max + Math.Log(logits[t].Sum(z => Math.Exp(z - max)));
            total += logSum - logits[t][ids[t + 1]];
        }
        return total / (ids.Count - 1);
    }

    /// <summary>Greedy continuation, recomputing the whole sequence every step (no cache).</summary>
    public static List<long> Greedy(RandomLlama m, IReadOnlyList<long> prompt, int steps, double[] invFreq, ISet<long> eos)
    {
        var ids = prompt.ToList();
        var generated = new List<long>();
        for (int s = 0; s < steps; s++)
        {
            var last = Logits(m, ids, invFreq)[^1];
            long best = 0;
            for (int i = 1; i < last.Length; i++) if (last[i] > last[best]) best = i;
            generated.Add(best);
            ids.Add(best);
            if (eos.Contains(best)) break;
        }
        return generated;
    }

    private static double[] Row(float[] matrix, int row, int width) =>
        Enumerable.Range(0, width).Select(i => (double)matrix[row * width + i]).ToArray();

    private static double[] Norm(double[] x, float[] weight, double eps)
    {
        double meanSquare = x.Sum(a => a * a) / x.Length;
        double scale = 1 / Math.Sqrt(meanSquare + eps);
        return x.Select((a, i) => a * scale * weight[i]).ToArray();
    }

    private static double[] Project(float[] weight, float[]? bias, double[] x, int rows)
    {
        var y = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double sum = bias?[r] ?? 0;
            for (int c = 0; c < x.Length; c++) sum += weight[r * x.Length + c] * x[c];
            y[r] = sum;
        }
        return y;
    }

    /// <summary>Rotate-half rotary embedding of one head's slice at position <paramref name="pos"/>.</summary>
    private static void Rotate(double[] x, int offset, int hd, int pos, double[] invFreq)
    {
        int half = hd / 2;
        for (int i = 0; i < half; i++)
        {
            double angle = pos * invFreq[i], cos = Math.Cos(angle), sin = Math.Sin(angle);
            double a = x[offset + i], b = x[offset + half + i];
            x[offset + i] = a * cos - b * sin;
            x[offset + half + i] = b * cos + a * sin;
        }
    }
}
