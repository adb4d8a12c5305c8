using System.Text.RegularExpressions;
using ChatVector.Core.Models;

namespace ChatVector.Core.Inference;

/// <summary>
/// Formats one user message for generation with the model's chat_template. No Jinja engine is
/// available, so the template is recognised by its family's markers and the family's format is
/// written out: Llama-3 (header ids, eot), ChatML (im_start/im_end, with the template's default
/// system message), and [INST] (Mistral, Llama-2). Anything else is refused with what to do instead.
/// </summary>
public static partial class ChatTemplates
{
    public enum Family { Llama3, ChatMl, Inst }

    /// <summary>The chat_template of the model's tokenizer_config.json, formatted for <paramref name="prompt"/>.</summary>
    public static string Format(ModelSideFiles sideFiles, string prompt)
    {
        var path = sideFiles.PathOf(ModelSideFiles.TokenizerConfig);
        var template = sideFiles.ChatTemplate;
        if (template is null)
            throw new InferenceException(InferenceProblem.ChatTemplateMissing,
                $"{path}: the model has no chat_template; pass the prompt already formatted, without -ChatTemplate.", path);
        var family = Recognise(template) ?? throw new InferenceException(InferenceProblem.ChatTemplateNotRecognised,
            $"{path}: the chat_template is not one of the families ChatVector recognises (Llama-3, ChatML, Mistral/Llama-2 [INST]); " +
            "format the prompt yourself (as the model's template would) and pass it without -ChatTemplate.", path);
        return Apply(family, template, prompt, sideFiles.BosToken);
    }

    public static Family? Recognise(string template)
    {
        if (template.Contains("<|start_header_id|>") && template.Contains("<|end_header_id|>") && template.Contains("<|eot_id|>")) return Family.Llama3;
        if (template.Contains("<|im_start|>") && template.Contains("<|im_end|>")) return Family.ChatMl;
        if (template.Contains("[INST]") && template.Contains("[/INST]")) return Family.Inst;
        return null;
    }

    public static string Apply(Family family, string template, string prompt, string? bos)
    {
        // The BOS goes in the text only where the template writes it (bos_token or the literal), as transformers'
        // apply_chat_template does; a template without it (the tiny examples') gets none.
        bool writesBos = template.Contains("bos_token") || template.Contains("<|begin_of_text|>");
        string start = writesBos ? bos ?? (family == Family.Llama3 ? "<|begin_of_text|>" : "") : "";
        return family switch
        {
            Family.Llama3 => $"{start}<|start_header_id|>user<|end_header_id|>\n\n{prompt.Trim()}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            Family.ChatMl => $"{DefaultSystem(template)}<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n",
            _ => $"{start}[INST] {prompt.Trim()} [/INST]",
        };
    }

    /// <summary>ChatML templates (Qwen2) that add a system message when none is given: that message, written out.</summary>
    private static string DefaultSystem(string template)
    {
        var match = DefaultSystemPattern().Match(template);
        return match.Success ? $"<|im_start|>system\n{match.Groups[1].Value}<|im_end|>\n" : "";
    }

    [GeneratedRegex(@"<\|im_start\|>system\\n([^{}'""<]+?)<\|im_end\|>")]
    private static partial Regex DefaultSystemPattern();
}
