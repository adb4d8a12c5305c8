using static TorchSharp.torch;

namespace ToyChatVector;

/// <summary>A training batch: inputs (batch, T) and next-token targets (batch, T), -100 where no loss is taken.</summary>
public sealed record Batch(long[] Inputs, long[] Targets, int Rows, int Length)
{
    public const long Ignore = -100;
}

/// <summary>Makes batches from the toy languages. Every draw comes from the given Random, so a seed fixes the data.</summary>
public sealed class Batches(ToyVocabulary vocabulary)
{
    /// <summary>Running text of one language, a window starting at a random word: loss on every token.</summary>
    public Batch Text(ToyLanguage language, Random random, int rows, int length)
    {
        var inputs = new long[rows * length];
        var targets = new long[rows * length];
        for (int r = 0; r < rows; r++)
        {
            int offset = random.Next(8);
            var ids = vocabulary.Encode(language.Text(random, offset + length + 1).Skip(offset).Take(length + 1));
            for (int t = 0; t < length; t++)
            {
                inputs[r * length + t] = ids[t];
                targets[r * length + t] = ids[t + 1];
            }
        }
        return new Batch(inputs, targets, rows, length);
    }

    /// <summary>Instruction examples, right-padded: loss only on what the assistant says (answer and eos).</summary>
    public Batch Instructions(IReadOnlyList<IReadOnlyList<string>> sentences)
    {
        var examples = sentences.Select(s => vocabulary.Encode(ChatFormat.Example(s))).ToList();
        int length = examples.Max(e => e.Length) - 1;
        var inputs = Enumerable.Repeat((long)vocabulary.PadId, examples.Count * length).ToArray();
        var targets = Enumerable.Repeat(Batch.Ignore, examples.Count * length).ToArray();
        for (int r = 0; r < examples.Count; r++)
        {
            var ids = examples[r];
            int answerStart = Array.IndexOf(ids, vocabulary.AssistantId) + 1;
            for (int t = 0; t < ids.Length - 1; t++)
            {
                inputs[r * length + t] = ids[t];
                if (t + 1 >= answerStart) targets[r * length + t] = ids[t + 1];
            }
        }
        return new Batch(inputs, targets, examples.Count, length);
    }

    public static (Tensor Inputs, Tensor Targets) ToTensors(Batch batch) =>
        (tensor(batch.Inputs, [batch.Rows, batch.Length]), tensor(batch.Targets, [batch.Rows, batch.Length]));
}
