namespace ChatVector.Core.Config;

/// <summary>
/// The chat templates mergekit's <c>chat_template:</c> names (alpaca, chatml, exaone, llama3, mistral), written here for
/// transformers' Jinja settings (trim_blocks, lstrip_blocks). Each produces its family's conversation format; where
/// mergekit's own file renders stray whitespace (exaone's indentation, alpaca's missing blank line before a generation
/// prompt, a newline after each llama3 turn), these follow the family's format instead.
/// </summary>
public static class BuiltInChatTemplates
{
    /// <summary>The names, each with its template text.</summary>
    public static IReadOnlyDictionary<string, string> ByName { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        // <|im_start|>role\ncontent<|im_end|>\n per message; the prompt opens an assistant turn.
        ["chatml"] = """
            {%- for message in messages -%}
            {{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}
            {{- '<|im_start|>assistant\n' -}}
            {%- endif -%}
            """,
        // Meta's Llama 3: the BOS, then a header and the trimmed content closed by <|eot_id|> per message.
        ["llama3"] = """
            {%- for message in messages -%}
            {%- if loop.first -%}{{- bos_token -}}{%- endif -%}
            {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + (message['content'] | trim) + '<|eot_id|>' -}}
            {%- endfor -%}
            {%- if add_generation_prompt -%}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {%- endif -%}
            """,
        // Mistral's [INST]: an optional system message joins the first user turn; turns alternate user, assistant.
        ["mistral"] = """
            {%- if messages[0]['role'] == 'system' -%}
            {%- set system_message = messages[0]['content'] -%}
            {%- set loop_messages = messages[1:] -%}
            {%- else -%}
            {%- set loop_messages = messages -%}
            {%- endif -%}
            {{- bos_token -}}
            {%- for message in loop_messages -%}
            {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
            {{- raise_exception('After an optional system message, the roles must alternate user, assistant, user, ...') -}}
            {%- endif -%}
            {%- if message['role'] == 'user' -%}
            {%- if loop.first and system_message is defined -%}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' -}}
            {%- else -%}
            {{- ' [INST] ' + message['content'] + ' [/INST]' -}}
            {%- endif -%}
            {%- elif message['role'] == 'assistant' -%}
            {{- ' ' + message['content'] + eos_token -}}
            {%- else -%}
            {{- raise_exception('Only user and assistant messages are formatted, after an optional system message.') -}}
            {%- endif -%}
            {%- endfor -%}
            """,
        // Alpaca: the (last) system message, then ### Instruction / ### Input / ### Response sections, blank lines between.
        ["alpaca"] = """
            {%- set systems = messages | selectattr('role', 'equalto', 'system') | list -%}
            {%- set turns = messages | rejectattr('role', 'equalto', 'system') | list -%}
            {%- set prompt = add_generation_prompt and (turns | length == 0 or turns[-1]['role'] != 'assistant') -%}
            {%- if systems | length > 0 -%}
            {{- (systems | last)['content'] | trim -}}
            {%- if turns | length > 0 or prompt -%}{{- '\n\n' -}}{%- endif -%}
            {%- endif -%}
            {%- for message in turns -%}
            {%- if message['role'] == 'user' -%}
            {{- '### Instruction:\n' + (message['content'] | trim) -}}
            {%- elif message['role'] == 'user_context' -%}
            {{- '### Input:\n' + (message['content'] | trim) -}}
            {%- elif message['role'] == 'assistant' -%}
            {{- '### Response:\n' + (message['content'] | trim) -}}
            {%- else -%}
            {{- raise_exception('Alpaca formats system, user, user_context and assistant messages.') -}}
            {%- endif -%}
            {%- if not loop.last -%}{{- '\n\n' -}}{%- endif -%}
            {%- endfor -%}
            {%- if prompt -%}
            {{- ('\n\n' if turns | length > 0 else '') + '### Response:\n' -}}
            {%- endif -%}
            """,
        // EXAONE: [|role|]content; a user turn ends with a newline, the others with [|endofturn|]; an empty system turn first when none is given.
        ["exaone"] = """
            {%- for message in messages -%}
            {%- if loop.first and message['role'] != 'system' -%}
            {{- '[|system|][|endofturn|]\n' -}}
            {%- endif -%}
            {{- '[|' + message['role'] + '|]' + message['content'] -}}
            {%- if message['role'] == 'user' -%}
            {{- '\n' -}}
            {%- else -%}
            {{- '[|endofturn|]\n' -}}
            {%- endif -%}
            {%- endfor -%}
            {%- if add_generation_prompt -%}
            {{- '[|assistant|]' -}}
            {%- endif -%}
            """,
    };

    /// <summary>The template called <paramref name="name"/>, or null.</summary>
    public static string? Find(string name) => ByName.TryGetValue(name, out var template) ? template : null;
}
