namespace ChatVector.Core.Lora;

/// <summary>
/// Every rule a PEFT LoRA adapter folder can break, beyond those of its safetensors file (<see cref="Format.SafeTensorRule"/>).
/// Each error names one; the names are the error ids users see.
/// </summary>
public enum LoraAdapterRule
{
    /// <summary>The folder has no adapter_config.json (or the path is not a folder).</summary>
    AdapterConfigMissing,
    /// <summary>adapter_config.json is not valid JSON, not an object, or a key that changes the weights holds a value of the wrong kind.</summary>
    AdapterConfigInvalid,
    /// <summary>peft_type is not LORA (another PEFT method's adapter).</summary>
    AdapterNotLora,
    /// <summary>use_dora: DoRA rescales each row by a learned magnitude, so its change is not a delta that adds to any model.</summary>
    DoraNotAdditive,
    /// <summary>A LoRA feature whose change is not scaling·B·A or a saved tensor (lora_bias, trainable tokens, target_parameters, ...).</summary>
    AdapterFeatureNotSupported,
    /// <summary>The weights are adapter_model.bin, a pickle: loading one can run arbitrary code.</summary>
    PickleAdapterRefused,
    /// <summary>The folder has no adapter_model.safetensors.</summary>
    AdapterWeightsMissing,
    /// <summary>A tensor name the PEFT layout does not define (or that the config does not account for).</summary>
    AdapterTensorUnknown,
    /// <summary>A LoRA pair that cannot be a delta: A without B, shapes that do not chain, a rank other than the config's, a dtype that is not floating point.</summary>
    AdapterTensorMalformed,
    /// <summary>A module the adapter changes that the model has not, or has in another shape.</summary>
    AdapterDoesNotFitModel,
}
