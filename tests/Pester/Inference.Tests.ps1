# Measure-ChatVectorModel and Invoke-ChatVectorModel as a user runs them: on a tiny model trained in the test to
# memorise a text (perplexity near 1, the text reproduced from its first words), on the example trio, on merges
# straight from the pipeline, and the errors that stop them. The forward pass's numbers are checked against a
# plain reference in xunit (tests/ChatVector.Core.Tests/Inference); here, what the user sees.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Text = 'the cat sat on the mat and the dog sat on the sun . the end'
    $script:Memorised = New-MemorisedModel -Path (Join-Path $TestDrive 'memorised') -Text $Text
    # The trainer's vocabulary: three specials, then the distinct words in order of first use (computed here, not by the tokenizer).
    $words = $Text -split ' '
    $vocabulary = @('<unk>', '<s>', '</s>') + @($words | Select-Object -Unique)
    $script:Ids = @($words | ForEach-Object { [array]::IndexOf($vocabulary, $_) })

    function Copy-Model([string] $From, [string] $Name) {
        $to = Join-Path $TestDrive $Name
        Copy-Item -LiteralPath $From -Destination $to -Recurse
        $to
    }
}

Describe 'Measure-ChatVectorModel' -Tag 'Inference' {
    It 'gives a memorised text a perplexity near 1, over its T − 1 predictions' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $result = Measure-ChatVectorModel -Model $Memorised -Text $Text
        $result.Model | Should -Be $Memorised
        $result.Tokens | Should -Be $Ids.Count
        $result.Perplexity | Should -BeLessThan 1.05
        $result.Perplexity | Should -Be ([math]::Exp($result.NegativeLogLikelihood))
    }

    It 'scores an unseen word order far worse than the memorised one' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $shuffled = ($Text -split ' ')[-1..-16] -join ' '
        (Measure-ChatVectorModel -Model $Memorised -Text $shuffled).Perplexity | Should -BeGreaterThan 5
    }

    It 'tokenizes with tokenizer.json: -Text and the hand-computed -TokenIds agree' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $byText = Measure-ChatVectorModel -Model $Memorised -Text $Text
        $byIds = Measure-ChatVectorModel -Model $Memorised -TokenIds $Ids
        $byIds.NegativeLogLikelihood | Should -Be $byText.NegativeLogLikelihood
    }

    It 'reads -Path files and gives one object per input and model, models piped by property name' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $file = Join-Path $TestDrive 'text.txt'
        Set-Content -LiteralPath $file -Value $Text
        $results = @(Get-Item $Memorised, (Join-Path $Tiny 'cp') | Measure-ChatVectorModel -Path $file, $file)
        $results.Count | Should -Be 4
        @($results.Model | Select-Object -Unique) | Should -Be @($Memorised, (Join-Path $Tiny 'cp'))
        $results[0].Input | Should -Be 'text.txt'
        $results[0].Perplexity | Should -BeLessThan 1.05
        $results[2].Perplexity | Should -BeGreaterThan 5
    }

    It 'measures merges straight from the pipeline, each Add-ChatVector run one model, as the written merge measures' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $base = Join-Path $Tiny 'base'; $chat = Join-Path $Tiny 'chat'; $cp = Join-Path $Tiny 'cp'
        $sentence = 'hello the cat sat on the mat . 안녕하세요 고양이'
        $swept = @(0, 0.5 | ForEach-Object { Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio $_ } |
                Measure-ChatVectorModel -Text $sentence)
        $swept.Ratio | Should -Be @(0, 0.5)
        $swept.Model | Should -Be @($cp, $cp)
        $written = Join-Path $TestDrive 'merged'
        Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio 0.5 | Export-SafeTensor $written
        (Measure-ChatVectorModel -Model $written -Text $sentence).NegativeLogLikelihood | Should -Be $swept[1].NegativeLogLikelihood
        $swept[0].NegativeLogLikelihood | Should -Be (Measure-ChatVectorModel -Model $cp -Text $sentence).NegativeLogLikelihood
        $swept[1].NegativeLogLikelihood | Should -Not -Be $swept[0].NegativeLogLikelihood
    }

    It 'names the file of an input too short to score, and warns about a file that is not UTF-8' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $short = Join-Path $TestDrive 'short.txt'
        Set-Content -LiteralPath $short -Value 'the' -NoNewline
        $latin1 = Join-Path $TestDrive 'latin1.txt'
        [IO.File]::WriteAllBytes($latin1, [byte[]](0x74, 0x68, 0x65, 0x20, 0x63, 0x61, 0x74, 0x20, 0xE9)) # 'the cat ' and é in Latin-1
        $results = @(Measure-ChatVectorModel -Model $Memorised -Path $short, $latin1 -ErrorVariable failed -ErrorAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue)
        "$failed" | Should -BeLike 'short.txt: *'
        "$warned" | Should -BeLike "*latin1.txt is not valid UTF-8*"
        $results.Count | Should -Be 1
    }

    It 'needs models from exactly one place: -Model or handles on the pipeline' {
        { Measure-ChatVectorModel -Text $Text } |
            Should -Throw -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.MeasureChatVectorModelCommand'
        { Get-SafeTensor (Join-Path $Tiny 'cp') | Measure-ChatVectorModel -Model $Memorised -Text $Text } |
            Should -Throw -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.MeasureChatVectorModelCommand'
    }

    It 'refuses an unsupported architecture, naming the supported ones' {
        $other = Copy-Model $Memorised 'gpt2'
        $config = Get-Content (Join-Path $other 'config.json') -Raw | ConvertFrom-Json
        $config.architectures = @('GPT2LMHeadModel')
        $config | ConvertTo-Json | Set-Content (Join-Path $other 'config.json')
        $thrown = { Measure-ChatVectorModel -Model $other -TokenIds 3, 4, 5 -ErrorAction Stop } |
            Should -Throw -ErrorId 'UnsupportedArchitecture,ChatVector.PowerShell.Cmdlets.MeasureChatVectorModelCommand' -PassThru
        $thrown.Exception.Message | Should -Match "GPT2LMHeadModel' is not supported.*LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM"
    }

    It 'says a model without tokenizer.json cannot take text, and still takes -TokenIds' {
        $bare = Copy-Model $Memorised 'no-tokenizer'
        Remove-Item (Join-Path $bare 'tokenizer.json')
        { Measure-ChatVectorModel -Model $bare -Text $Text -ErrorAction Stop } |
            Should -Throw -ErrorId 'TokenizerMissing,ChatVector.PowerShell.Cmdlets.MeasureChatVectorModelCommand'
        (Measure-ChatVectorModel -Model $bare -TokenIds $Ids).Perplexity | Should -BeLessThan 1.05
    }

    It 'refuses input longer than -ContextLength or max_position_embeddings' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        { Measure-ChatVectorModel -Model $Memorised -Text $Text -ContextLength 8 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InputTooLong,ChatVector.PowerShell.Cmdlets.MeasureChatVectorModelCommand'
        $long = (@($Text) * 5) -join ' '   # 80 tokens; the trained model's config allows 64
        $thrown = { Measure-ChatVectorModel -Model $Memorised -Text $long -ErrorAction Stop } |
            Should -Throw -ErrorId 'InputTooLong,ChatVector.PowerShell.Cmdlets.MeasureChatVectorModelCommand' -PassThru
        $thrown.Exception.Message | Should -Match 'max_position_embeddings 64'
    }
}

Describe 'Invoke-ChatVectorModel' -Tag 'Inference' {
    It 'reproduces the memorised text from its first words and stops at eos, keeping it' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $result = Invoke-ChatVectorModel -Model $Memorised -Prompt 'the cat sat'
        $result.Text | Should -Be (($Text -split ' ')[3..15] -join ' ')
        $result.TokenIds | Should -Be (@($Ids[3..15]) + 2)
        $result.StoppedAtEos | Should -BeTrue
    }

    It 'runs a merge piped to it as the one merged model, as the written merge runs' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $base = Join-Path $Tiny 'base'; $chat = Join-Path $Tiny 'chat'; $cp = Join-Path $Tiny 'cp'
        # Each handle also has a Model property (cp's folder): it must not run cp once per tensor.
        $piped = @(Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio 0.5 | Invoke-ChatVectorModel -Prompt 'the cat' -MaxNewTokens 3)
        $piped.Count | Should -Be 1
        $written = Join-Path $TestDrive 'merged-invoke'
        Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio 0.5 | Export-SafeTensor $written
        $piped[0].TokenIds | Should -Be (Invoke-ChatVectorModel -Model $written -Prompt 'the cat' -MaxNewTokens 3).TokenIds
        { Get-SafeTensor $cp | Invoke-ChatVectorModel -Model $cp -Prompt 'the cat' } |
            Should -Throw -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand'
        { Invoke-ChatVectorModel -Prompt 'the cat' } | Should -Throw -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand'
    }

    It 'reads the one positional value before piped handles as the prompt, and a folder then a prompt by position' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $base = Join-Path $Tiny 'base'; $chat = Join-Path $Tiny 'chat'; $cp = Join-Path $Tiny 'cp'
        $named = Invoke-ChatVectorModel -Model $cp -Prompt 'the cat' -MaxNewTokens 3
        $positional = @(Get-SafeTensor $cp | Invoke-ChatVectorModel 'the cat' -MaxNewTokens 3)
        $positional.Count | Should -Be 1
        $positional[0].TokenIds | Should -Be $named.TokenIds
        (Invoke-ChatVectorModel $cp 'the cat' -MaxNewTokens 3).TokenIds | Should -Be $named.TokenIds
        # Without a prompt: an error saying what to give, not an interactive request for one.
        { Invoke-ChatVectorModel $cp } | Should -Throw -ExpectedMessage '*Give -Prompt*' -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand'
        # A value naming an existing folder stays a model, by name or by position: with handles piped, both are refused.
        { Get-SafeTensor $cp | Invoke-ChatVectorModel -Model $cp } | Should -Throw -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand'
        { Get-SafeTensor $cp | Invoke-ChatVectorModel $cp } | Should -Throw -ExpectedMessage '*taken as -Model; give the prompt by name*' -ErrorId 'InvalidArgument,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand'
        { Invoke-ChatVectorModel -Model $cp -Prompt $null } | Should -Throw -ErrorId 'ParameterArgumentValidationError,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand'
    }

    It 'names the piped handles, not the folder, when they lack a tensor the model needs' {
        $cp = Join-Path $Tiny 'cp'
        $null = Get-SafeTensor $cp | Select-Object -First 3 | Invoke-ChatVectorModel -TokenIds 1, 2 -MaxNewTokens 1 -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures.Count | Should -Be 1
        $failures[0].Exception.Message | Should -BeLike '*(the 3 tensor handle(s) piped in): the model has no tensor*'
    }

    It 'stops at -MaxNewTokens' {
        $result = Invoke-ChatVectorModel -Model $Memorised -TokenIds $Ids[0..2] -MaxNewTokens 2
        $result.TokenIds | Should -Be $Ids[3..4]
        $result.StoppedAtEos | Should -BeFalse
    }

    It '-ChatTemplate writes the tiny chat model''s Llama-3-style turn around the prompt' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $chat = Join-Path $Tiny 'chat'
        # <|start_header_id|> user <|end_header_id|> hello <|eot_id|> <|start_header_id|> assistant <|end_header_id|>, by the tiny vocabulary.
        $vocabulary = (Get-Content (Join-Path $chat 'tokenizer.json') -Raw | ConvertFrom-Json -AsHashtable).model.vocab
        $formatted = '<|start_header_id|>', 'user', '<|end_header_id|>', 'hello', '<|eot_id|>', '<|start_header_id|>', 'assistant', '<|end_header_id|>' |
            ForEach-Object { $vocabulary[$_] }
        $templated = Invoke-ChatVectorModel -Model $chat -Prompt 'hello' -ChatTemplate -MaxNewTokens 6
        $templated.TokenIds | Should -Be (Invoke-ChatVectorModel -Model $chat -TokenIds $formatted -MaxNewTokens 6).TokenIds
        $templated.TokenIds | Should -Not -Be (Invoke-ChatVectorModel -Model $chat -Prompt 'hello' -MaxNewTokens 6).TokenIds
    }

    It 'refuses a chat template it does not recognise, telling the user to format the prompt' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because $NoTextTokenizer; return }
        $odd = Copy-Model (Join-Path $Tiny 'chat') 'odd-template'
        $path = Join-Path $odd 'tokenizer_config.json'
        $config = Get-Content $path -Raw | ConvertFrom-Json
        $config.chat_template = '{% for m in messages %}### {{ m.role }}: {{ m.content }}{% endfor %}'
        $config | ConvertTo-Json | Set-Content $path
        $thrown = { Invoke-ChatVectorModel -Model $odd -Prompt 'hello' -ChatTemplate -ErrorAction Stop } |
            Should -Throw -ErrorId 'ChatTemplateNotRecognised,ChatVector.PowerShell.Cmdlets.InvokeChatVectorModelCommand' -PassThru
        $thrown.Exception.Message | Should -Match 'without -ChatTemplate'
    }
}
