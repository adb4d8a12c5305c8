using ChatVector.Core.Inference;
using Xunit;

namespace ChatVector.Core.Tests.Inference;

/// <summary>Template families recognised by their markers and written out as the family formats one user turn.</summary>
public sealed class ChatTemplatesTests
{
    private const string Llama3 = "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n{{ message['content'] | trim }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}";
    private const string Qwen2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    private const string Mistral = "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}";

    [Fact]
    public void Llama3_writes_the_bos_and_the_user_and_assistant_headers() =>
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            ChatTemplates.Apply(ChatTemplates.Recognise(Llama3)!.Value, Llama3, " Hi there ", "<|begin_of_text|>"));

    [Fact]
    public void ChatML_writes_the_templates_default_system_message() =>
        Assert.Equal("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplates.Apply(ChatTemplates.Recognise(Qwen2)!.Value, Qwen2, "Hi", null));

    [Fact]
    public void Inst_wraps_the_prompt_after_the_bos() =>
        Assert.Equal("<s>[INST] Hi [/INST]", ChatTemplates.Apply(ChatTemplates.Recognise(Mistral)!.Value, Mistral, "Hi", "<s>"));

    [Fact]
    public void Other_templates_are_not_recognised() =>
        Assert.Null(ChatTemplates.Recognise("{% for m in messages %}### {{ m.role }}: {{ m.content }}\n{% endfor %}"));
}
