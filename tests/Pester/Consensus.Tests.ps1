# Add-ChatVector's merge algebra (mergekit's methods): -Consensus and -Normalize, composition (negative ratios,
# vectors on different bases, a base model as the target), -SpecialToken by text, and the generation
# config's eos_token_id. The mixing arithmetic itself is checked element by element in the xunit suite
# (ConsensusTests); here the cmdlets are checked through identities of the rules a user can rely on, on files
# read back by the independent reader.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:AddId = 'ChatVector.PowerShell.Cmdlets.AddChatVectorCommand'

    function New-Model([string] $Path, [int] $Seed, [int] $Vocab = 40, [string[]] $Tokens, [int] $Eos = 2, [string] $Template) {
        $builder = @{ Seed = $Seed; Vocab = $Vocab; GenerationEosTokenId = $Eos }
        if ($Tokens) { $builder.TokenizerVocab = [string[]]$Tokens }
        if ($Template) { $builder.ChatTemplate = $Template; $builder.EosToken = '<|im_end|>' }
        $null = ([ChatVector.TestKit.LlamaModelBuilder]$builder).Write($Path)
        $Path
    }

    # model + the sum of each vector's ratio * (chat - base) for one tensor (each @{ Chat; Base; Ratio }, values by
    # tensor name), in float32 step by step ([float] after every operation rounds as float32 arithmetic does): the
    # plain composition the cases below rely on, not a mixing rule.
    function Get-ExpectedSum([double[]] $Model, [object[]] $Vectors, [string] $Name) {
        $result = [double[]]::new($Model.Length)
        for ($j = 0; $j -lt $Model.Length; $j++) {
            [float]$sum = 0
            foreach ($v in $Vectors) { $sum = [float]($sum + [float]([float]([float]$v.Chat[$Name][$j] - [float]$v.Base[$Name][$j]) * [float]$v.Ratio)) }
            $result[$j] = [float]([float]$Model[$j] + $sum)
        }
        , $result
    }

    # How many elements differ by more than float32 rounding (relative 1e-6).
    function Measure-Mismatch([double[]] $Actual, [double[]] $Expected) {
        $bad = 0
        for ($j = 0; $j -lt $Expected.Length; $j++) {
            if ([math]::Abs($Actual[$j] - $Expected[$j]) -gt 1e-6 * [math]::Max(1, [math]::Abs($Expected[$j]))) { $bad++ }
        }
        $bad
    }

    function Get-Recipe([string] $Folder) {
        $file = Get-ChildItem $Folder -Filter *.safetensors | Select-Object -First 1
        ([ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($file.FullName)).Metadata['chatvector.recipe'] | ConvertFrom-Json
    }
}

Describe 'Add-ChatVector -Consensus and -Normalize' -Tag 'Consensus' {
    BeforeAll {
        $root = Join-Path $TestDrive 'ties'
        $base = New-Model (Join-Path $root 'base') 11
        $chatA = New-Model (Join-Path $root 'chatA') 12
        $chatB = New-Model (Join-Path $root 'chatB') 14
        $cp = New-Model (Join-Path $root 'cp') 13
        function Invoke-Ties([string] $Out, [hashtable] $Mix) {
            $a = Get-ChatVector -Base $base -Chat $chatA -Ratio 1.0
            $b = Get-ChatVector -Base $base -Chat $chatB -Ratio 0.6
            @($a) + @($b) | Add-ChatVector -Model $cp -DType F32 @Mix | Export-SafeTensor $Out
            Read-IndependentTensors $Out
        }
    }

    It '-Consensus None without -Normalize writes the same tensor bytes as the plain merge did before consensus existed' {
        # SHA-256 over every tensor's values (name order; bf16 widened to float64, so bit for bit) of the examples/tiny merge at ratio 0.5, recorded from
        # the plain merge at commit 13b8523, before -Consensus existed. The same on any CPU: every operation is element-wise
        # with one IEEE rounding (no libtorch reduction), and at ratio 0.5 each product is exact, so fused or not is alike.
        $recorded = '49FEDCD30A211DA14F13F609E534DD9D1DCD03D330C289ADA5B62E1D2DD5A90A'
        foreach ($extra in @{}, @{ Consensus = 'None' }) {
            $out = Join-Path $TestDrive ('plain' + $extra.Count)
            Get-ChatVector -Base (Join-Path $Tiny 'base') -Chat (Join-Path $Tiny 'chat') |
                Add-ChatVector -Model (Join-Path $Tiny 'cp') -Ratio 0.5 @extra | Export-SafeTensor $out
            $values = Read-IndependentTensors $out
            $stream = [System.IO.MemoryStream]::new()
            foreach ($name in [string[]]$values.Keys | Sort-Object -CaseSensitive) { foreach ($x in $values[$name]) { $stream.Write([BitConverter]::GetBytes($x)) } }
            [Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($stream.ToArray())) | Should -Be $recorded
        }
    }

    It 'rejects a consensus it does not know' {
        { Get-ChatVector -Base $base -Chat $chatA | Add-ChatVector -Model $cp -Consensus Majority } |
            Should -Throw -ErrorId "ParameterArgumentValidationError,$AddId"
    }

    It '<Consensus> with Normalize=<Normalize>, given a vector and its half opposed, gives back the plain merge of the vector' -ForEach @(
        @{ Consensus = 'Sum'; Normalize = $true }   # TIES without the trim
        @{ Consensus = 'Sum'; Normalize = $false }
        @{ Consensus = 'Count'; Normalize = $true }
        @{ Consensus = 'None'; Normalize = $true }  # a weighted average of the vectors
    ) {
        # v and -0.5 v: Sum elects v's sign and keeps v alone; Count ties at 0, elects +, and keeps whichever is
        # positive, which normalizing by its ratio (1 or -0.5) turns back into v; None averages (v - 0.5 v) / 0.5 = v.
        # Each step is exact in float32 (halving, and sums of a value and its half), so the bytes are the plain merge's.
        $out = Join-Path $TestDrive "$Consensus-$Normalize"
        $v = Get-ChatVector -Base $base -Chat $chatA -Ratio 1.0
        $opposed = Get-ChatVector -Base $base -Chat $chatA -Ratio -0.5
        @($v) + @($opposed) | Add-ChatVector -Model $cp -DType F32 -Consensus $Consensus -Normalize:$Normalize | Export-SafeTensor $out
        $plainOut = Join-Path $TestDrive "plain-$Consensus-$Normalize"
        Get-ChatVector -Base $base -Chat $chatA -Ratio 1.0 | Add-ChatVector -Model $cp -DType F32 | Export-SafeTensor $plainOut
        $written = Read-IndependentBytes $out
        $plain = Read-IndependentBytes $plainOut
        $written.Count | Should -Be $plain.Count
        foreach ($name in $plain.Keys) { [Linq.Enumerable]::SequenceEqual($written[$name], $plain[$name]) | Should -BeTrue -Because $name }
    }

    It 'consensus changes the result where the vectors disagree' {
        $ties = Invoke-Ties (Join-Path $TestDrive 'sum') @{ Consensus = 'Sum' }
        $plain = Invoke-Ties (Join-Path $TestDrive 'none') @{}
        $name = 'model.layers.0.mlp.up_proj.weight'
        Measure-Mismatch $ties[$name] $plain[$name] | Should -BeGreaterThan 10
    }

    It 'records consensus and normalization in the shard metadata and the model card' {
        $out = Join-Path $TestDrive 'recorded'
        $null = Invoke-Ties $out @{ Consensus = 'Count'; Normalize = $true }
        $recipe = Get-Recipe $out
        $recipe.consensus | Should -Be 'count'
        $recipe.normalize | Should -BeTrue
        Get-Content (Join-Path $out 'README.md') -Raw | Should -Match 'Mixing: sign consensus by count.*divided by the sum of the kept'
    }
}

Describe 'Composition of vectors' -Tag 'Consensus' {
    BeforeAll {
        $root = Join-Path $TestDrive 'compose'
        $base = New-Model (Join-Path $root 'base') 21
        $chat = New-Model (Join-Path $root 'chat') 22
        $cp = New-Model (Join-Path $root 'cp') 23
        $otherBase = New-Model (Join-Path $root 'otherBase') 24
        $otherChat = New-Model (Join-Path $root 'otherChat') 25
        $values = @{}
        foreach ($m in 'base', 'chat', 'cp', 'otherBase', 'otherChat') { $values[$m] = Read-IndependentTensors (Get-Variable $m -ValueOnly) }
        $names = 'model.embed_tokens.weight', 'model.layers.1.self_attn.v_proj.weight', 'lm_head.weight'
    }

    It 'a negative ratio subtracts the behaviour' {
        $out = Join-Path $TestDrive 'negative'
        Get-ChatVector -Base $base -Chat $chat -Ratio -0.5 | Add-ChatVector -Model $cp -DType F32 | Export-SafeTensor $out
        $written = Read-IndependentTensors $out
        foreach ($name in $names) {
            $expected = Get-ExpectedSum $values.cp[$name] @(@{ Chat = $values.chat; Base = $values.base; Ratio = -0.5 }) $name
            Measure-Mismatch $written[$name] $expected | Should -Be 0 -Because $name
        }
        (Get-Recipe $out).vectors[0].ratio | Should -Be -0.5
    }

    It 'vectors on different bases each keep their own base, in the values and in the recipe and card' {
        $out = Join-Path $TestDrive 'two-bases'
        $first = Get-ChatVector -Base $base -Chat $chat -Ratio 0.7
        $second = Get-ChatVector -Base $otherBase -Chat $otherChat -Ratio 0.4
        @($first) + @($second) | Add-ChatVector -Model $cp -DType F32 | Export-SafeTensor $out
        $written = Read-IndependentTensors $out
        $vectors = @(@{ Chat = $values.chat; Base = $values.base; Ratio = 0.7 }, @{ Chat = $values.otherChat; Base = $values.otherBase; Ratio = 0.4 })
        foreach ($name in $names) { Measure-Mismatch $written[$name] (Get-ExpectedSum $values.cp[$name] $vectors $name) | Should -Be 0 -Because $name }
        $recipe = Get-Recipe $out
        $recipe.vectors.base | Should -Be @($base, $otherBase)
        $recipe.vectors.chat | Should -Be @($chat, $otherChat)
        $card = Get-Content (Join-Path $out 'README.md') -Raw
        $card | Should -Match ([regex]::Escape("ratio 0.7 × (``$chat`` − ``$base``)"))
        $card | Should -Match ([regex]::Escape("ratio 0.4 × (``$otherChat`` − ``$otherBase``)"))
    }

    It 'a base model as the target: the delta of cp is just another vector' {
        $alone = Join-Path $TestDrive 'cp-again'
        Get-ChatVector -Base $base -Chat $cp | Add-ChatVector -Model $base | Export-SafeTensor $alone
        $written = Read-IndependentTensors $alone
        foreach ($name in $values.cp.Keys) { $written[$name] | Should -Be $values.cp[$name] -Because "base + (cp - base) is cp ($name)" }

        $both = Join-Path $TestDrive 'base-cp-chat'
        $cpDelta = Get-ChatVector -Base $base -Chat $cp
        $chatDelta = Get-ChatVector -Base $base -Chat $chat -Ratio 0.5
        @($cpDelta) + @($chatDelta) | Add-ChatVector -Model $base -DType F32 | Export-SafeTensor $both
        $written = Read-IndependentTensors $both
        $vectors = @(@{ Chat = $values.cp; Base = $values.base; Ratio = 1.0 }, @{ Chat = $values.chat; Base = $values.base; Ratio = 0.5 })
        foreach ($name in $names) { Measure-Mismatch $written[$name] (Get-ExpectedSum $values.base[$name] $vectors $name) | Should -Be 0 -Because $name }
        (Get-Recipe $both).model | Should -Be $base
    }
}

Describe 'Special tokens by text and the generation config''s eos' -Tag 'Consensus' {
    BeforeAll {
        $root = Join-Path $TestDrive 'tokens'
        $words = 1..37 | ForEach-Object { "w$_" }
        # The chat model has the template tokens at 38 and 39; cp (extended vocabulary) has them at 41 and 40.
        $chatTokens = @('<unk>') + $words + '<|im_start|>', '<|im_end|>'
        $cpTokens = @('<unk>') + $words + '<|pad|>', '<|other|>', '<|im_end|>', '<|im_start|>', 'new1', 'new2'
        $template = '{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}'
        $base = New-Model (Join-Path $root 'base') 31 -Tokens $chatTokens
        $chat = New-Model (Join-Path $root 'chat') 32 -Tokens $chatTokens -Eos 39 -Template $template
        $cp = New-Model (Join-Path $root 'cp') 33 -Vocab 44 -Tokens $cpTokens
        $other = New-Model (Join-Path $root 'other') 34 -Tokens $chatTokens -Eos 38 -Template $template
        $chatValues = Read-IndependentTensors $chat
        $cpValues = Read-IndependentTensors $cp
        function Get-Row([double[]] $Values, [int] $Row) { $Values[($Row * 16)..($Row * 16 + 15)] }
    }

    It 'takes the named tokens'' rows of embed and lm_head from the chat model, at the ids each tokenizer gives' {
        $out = Join-Path $TestDrive 'special'
        Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -SpecialToken '<|im_start|>', '<|im_end|>' | Export-SafeTensor $out
        $written = Read-IndependentTensors $out
        foreach ($name in 'model.embed_tokens.weight', 'lm_head.weight') {
            Get-Row $written[$name] 41 | Should -Be (Get-Row $chatValues[$name] 38) -Because "$name row 41 is <|im_start|>"
            Get-Row $written[$name] 40 | Should -Be (Get-Row $chatValues[$name] 39) -Because "$name row 40 is <|im_end|>"
            Get-Row $written[$name] 39 | Should -Not -Be (Get-Row $chatValues[$name] 39) -Because "$name row 39 is cp's <|other|>"
            Get-Row $written[$name] 42 | Should -Be (Get-Row $cpValues[$name] 42) -Because 'new vocabulary rows stay cp''s'
        }
        $recipe = Get-Recipe $out
        $recipe.special_tokens.token | Should -Be @('<|im_start|>', '<|im_end|>')
        $recipe.special_tokens.model_id | Should -Be @(41, 40)
        $recipe.special_tokens.chat_id | Should -Be @(38, 39)
        Get-Content (Join-Path $out 'README.md') -Raw | Should -Match ([regex]::Escape('`<|im_end|>` (model id 40 ← chat id 39)'))
    }

    It 'is an error before any write when a token is missing from <Missing>' -ForEach @(
        @{ Missing = 'the chat model''s tokenizer'; Token = '<|pad|>'; Folder = 'chat' }
        @{ Missing = 'cp''s tokenizer'; Token = 'nowhere'; Folder = 'cp' }
    ) {
        $out = Join-Path $TestDrive "missing-$Folder"
        $failure = $null
        try {
            Get-ChatVector -Base $base -Chat $chat |
                Add-ChatVector -Model $cp -SpecialToken '<|im_end|>', $Token -ErrorVariable problems -ErrorAction SilentlyContinue |
                Export-SafeTensor $out
        }
        catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be "MergeNotPossible,$AddId"
        $problems.Exception.Message | Should -Contain "-SpecialToken '$Token' is not a token of $(Join-Path $root $Folder 'tokenizer.json')."
        Test-Path $out | Should -BeFalse
    }

    It 'is an error before any write when a tokenizer.json is not a loadable tokenizer' {
        if ($TextTokenizerMissing) { Set-ItResult -Skipped -Because "$NoTextTokenizer (whether a tokenizer.json loads is the library's verdict)"; return }
        $copy = Join-Path $TestDrive 'unloadable'
        Copy-Item $Tiny $copy -Recurse -ErrorAction Stop
        Set-Content (Join-Path $copy 'chat/tokenizer.json') '{ "version": "1.0", "model": { "type": "NoSuchModel" } }'
        $out = Join-Path $TestDrive 'stub'
        $failure = $null
        try {
            Get-ChatVector -Base (Join-Path $copy 'base') -Chat (Join-Path $copy 'chat') |
                Add-ChatVector -Model (Join-Path $copy 'cp') -SpecialToken '<|eot_id|>' -ErrorVariable problems -ErrorAction SilentlyContinue |
                Export-SafeTensor $out
        }
        catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be "MergeNotPossible,$AddId"
        ($problems.Exception.Message -join "`n") | Should -Match 'unloadable[/\\]chat[/\\]tokenizer\.json: not a tokenizer the tokenizers library can load'
        Test-Path $out | Should -BeFalse
    }

    It 'gives generation_config.json the eos_token_id of the chat model the template comes from' {
        $out = Join-Path $TestDrive 'eos'
        Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp | Export-SafeTensor $out
        (Get-Content (Join-Path $cp 'generation_config.json') | ConvertFrom-Json).eos_token_id | Should -Be 2
        $generation = Get-Content (Join-Path $out 'generation_config.json') | ConvertFrom-Json
        $generation.eos_token_id | Should -Be 39
        $generation.bos_token_id | Should -Be 1 -Because 'the rest is cp''s'

        $chosen = Join-Path $TestDrive 'eos-chosen'
        Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -ChatTemplateFrom $other | Export-SafeTensor $chosen
        (Get-Content (Join-Path $chosen 'generation_config.json') | ConvertFrom-Json).eos_token_id | Should -Be 38
    }

    It 'keeps the chat model''s eos_token_id through a saved vector' {
        $saved = Join-Path $TestDrive 'cv'
        Get-ChatVector -Base $base -Chat $chat | Export-SafeTensor $saved
        $out = Join-Path $TestDrive 'eos-saved'
        Get-SafeTensor $saved | Add-ChatVector -Model $cp | Export-SafeTensor $out
        (Get-Content (Join-Path $out 'generation_config.json') | ConvertFrom-Json).eos_token_id | Should -Be 39
    }
}
