namespace ChatVector.PowerShell.Output;

/// <summary>Measure-ChatVectorModel's answer for one input and one model.</summary>
public sealed class ModelMeasurement
{
    internal ModelMeasurement(string model, double? ratio, string input, int tokens, double negativeLogLikelihood)
    {
        Model = model;
        Ratio = ratio;
        Input = input;
        Tokens = tokens;
        NegativeLogLikelihood = negativeLogLikelihood;
    }

    /// <summary>The model folder, or for merged handles from the pipeline the model they were merged into.</summary>
    public string Model { get; }
    /// <summary>For merged handles: the vector ratio of the merge (when it has one); empty for a model folder.</summary>
    public double? Ratio { get; }
    /// <summary>What was measured: the text's start, the file, or "token ids".</summary>
    public string Input { get; }
    /// <summary>Tokens in the input (T); T − 1 predictions were scored.</summary>
    public int Tokens { get; }
    /// <summary>Mean negative log-likelihood per predicted token, in nats.</summary>
    public double NegativeLogLikelihood { get; }
    /// <summary>exp(NegativeLogLikelihood).</summary>
    public double Perplexity => Math.Exp(NegativeLogLikelihood);
}
