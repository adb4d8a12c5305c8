namespace ChatVector.PowerShell.Output;

/// <summary>Invoke-ChatVectorModel's answer: the generated continuation (the prompt not included).</summary>
public sealed class GeneratedText
{
    internal GeneratedText(string model, string? text, long[] tokenIds, bool stoppedAtEos)
    {
        Model = model;
        Text = text;
        TokenIds = tokenIds;
        StoppedAtEos = stoppedAtEos;
    }

    public string Model { get; }
    /// <summary>The generated ids decoded by the model's tokenizer, special tokens (eos) left out; empty when the model has no tokenizer.json.</summary>
    public string? Text { get; }
    /// <summary>The generated ids only; an eos id that ended generation is the last one.</summary>
    public long[] TokenIds { get; }
    /// <summary>True when generation ended at an eos id, false when it ran out of -MaxNewTokens or positions.</summary>
    public bool StoppedAtEos { get; }

    public override string ToString() => Text ?? string.Join(" ", TokenIds);
}
