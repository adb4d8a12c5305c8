namespace ChatVector.Core.LoraExport;

/// <summary>How an adapter carries the vector of the input embedding and the LM head.</summary>
public enum EmbeddingMode
{
    /// <summary>The whole tensor (base + vector) in <c>modules_to_save</c>: exact, and as large as the tensor.</summary>
    ModulesToSave,
    /// <summary>Low-rank like the other weights (the embedding as <c>lora_embedding_A/B</c>, the LM head as a linear layer).</summary>
    Lora,
    /// <summary>Left out: the adapter does not change them.</summary>
    Skip,
}

/// <summary>How an adapter carries the vector of 1-D weights (norms).</summary>
public enum NormMode
{
    /// <summary>Left out: the adapter does not change them.</summary>
    Skip,
    /// <summary>The whole tensor (base + vector) in <c>modules_to_save</c>.</summary>
    ModulesToSave,
}

/// <summary>What an adapter holds for one tensor of the vector.</summary>
public enum LoraTensorKind
{
    /// <summary>lora_A and lora_B of a linear layer.</summary>
    Lora,
    /// <summary>lora_embedding_A and lora_embedding_B of an embedding.</summary>
    LoraEmbedding,
    /// <summary>The whole weight in modules_to_save.</summary>
    Whole,
    /// <summary>Nothing.</summary>
    Skipped,
}
