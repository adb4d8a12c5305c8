# Measure-ChatVector: statistics of vectors, models and merges, per tensor or per layer, computed here
# independently from the values the builder wrote.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $trio = New-TestTrio (Join-Path $TestDrive 'trio')

    # chat - base of one tensor, each difference rounded to float32 as the vector is, widened to double.
    function Get-Vector([string] $Name) {
        for ($i = 0; $i -lt $trio.BaseValues[$Name].Count; $i++) { [double][float]($trio.ChatValues[$Name][$i] - $trio.BaseValues[$Name][$i]) }
    }

    function Get-Norm([double[]] $Values) { [Math]::Sqrt(($Values | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum) }

    function Get-Dot([double[]] $A, [double[]] $B) {
        $sum = 0.0
        for ($i = 0; $i -lt $A.Count; $i++) { $sum += $A[$i] * $B[$i] }
        $sum
    }

    # Asserts $Actual is within $Tolerance of $Expected (relative to its size, with a floor).
    function Assert-Near([double] $Actual, [double] $Expected, [string] $What, [double] $Tolerance = 1e-6) {
        [Math]::Abs($Actual - $Expected) | Should -BeLessOrEqual ($Tolerance * [Math]::Max(1, [Math]::Abs($Expected))) -Because "$What is $Actual, expected $Expected"
    }
}

Describe 'Measure-ChatVector' -Tag 'Measure' {
    It 'measures a vector: norms, moments and extremes, relative to its base and cosine to -Reference' {
        $name = 'model.layers.1.mlp.down_proj.weight'
        $m = Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $name | Measure-ChatVector -Reference $trio.Chat
        @($m).Count | Should -Be 1
        $m.Scope | Should -Be 'Tensor'
        $m.Name | Should -Be $name
        $m.DType | Should -Be 'F32'

        $v = [double[]](Get-Vector $name)
        $chat = [double[]]($trio.ChatValues[$name] | ForEach-Object { [double]$_ })
        $base = [double[]]($trio.BaseValues[$name] | ForEach-Object { [double]$_ })
        $l2 = Get-Norm $v
        $mean = ($v | Measure-Object -Average).Average
        $std = [Math]::Sqrt((($v | ForEach-Object { ($_ - $mean) * ($_ - $mean) }) | Measure-Object -Sum).Sum / $v.Count)
        $m.Elements | Should -Be $v.Count
        Assert-Near $m.L2Norm $l2 'L2Norm'
        Assert-Near $m.Rms ($l2 / [Math]::Sqrt($v.Count)) 'Rms'
        Assert-Near $m.Mean $mean 'Mean'
        Assert-Near $m.Std $std 'Std'
        Assert-Near $m.Min ($v | Measure-Object -Minimum).Minimum 'Min'
        Assert-Near $m.Max ($v | Measure-Object -Maximum).Maximum 'Max'
        Assert-Near $m.MaxAbs (($v | ForEach-Object { [Math]::Abs($_) }) | Measure-Object -Maximum).Maximum 'MaxAbs'
        Assert-Near $m.RelativeNorm ($l2 / (Get-Norm $base)) 'RelativeNorm'
        Assert-Near $m.Cosine ((Get-Dot $v $chat) / ($l2 * (Get-Norm $chat))) 'Cosine'
        $m.NaNCount | Should -Be 0
        $m.InfCount | Should -Be 0
    }

    It 'sums per layer and in total with -Summary' {
        $rows = Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Measure-ChatVector -Summary
        $rows.Scope | Sort-Object | Should -Be @('Layer', 'Layer', 'Layer', 'Total')
        ($rows | Where-Object Scope -EQ Layer).Name | Sort-Object | Should -Be @('(outside layers)', 'layer 0', 'layer 1')

        $layer0 = $trio.BaseValues.Keys | Where-Object { $_ -like 'model.layers.0.*' }
        $layer0Vector = [double[]]($layer0 | ForEach-Object { Get-Vector $_ })
        $row = $rows | Where-Object Name -EQ 'layer 0'
        $row.Elements | Should -Be $layer0Vector.Count
        Assert-Near $row.L2Norm (Get-Norm $layer0Vector) 'layer 0 L2Norm'

        $all = [double[]]($trio.BaseValues.Keys | ForEach-Object { Get-Vector $_ })
        $total = $rows | Where-Object Scope -EQ Total
        $total.Name | Should -Be "$($trio.BaseValues.Count) tensors"
        $total.Elements | Should -Be $all.Count
        Assert-Near $total.L2Norm (Get-Norm $all) 'total L2Norm'
    }

    It 'sums each model on the pipeline apart with -Summary, naming it' {
        $rows = @(@(Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'model.layers.0.*'; Get-ChatVector -Base $trio.Base -Chat $trio.Cp -Name 'model.layers.0.*') |
            Measure-ChatVector -Summary)
        $totals = @($rows | Where-Object Scope -EQ Total)
        $totals.Count | Should -Be 2
        $totals.Model | Should -Be @($trio.Chat, $trio.Cp)
        $one = $rows | Where-Object { $_.Scope -eq 'Total' -and $_.Model -eq $trio.Chat }
        $alone = Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'model.layers.0.*' | Measure-ChatVector -Summary | Where-Object Scope -EQ Total
        $one.L2Norm | Should -Be $alone.L2Norm
        $one.Elements | Should -Be $alone.Elements
    }

    It 'sums one chat model''s vectors over two bases apart with -Summary, naming each base' {
        $rows = @(@(Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'model.layers.0.*'; Get-ChatVector -Base $trio.Cp -Chat $trio.Chat -Name 'model.layers.0.*') |
            Measure-ChatVector -Summary)
        $totals = @($rows | Where-Object Scope -EQ Total)
        $totals.Count | Should -Be 2
        $totals.Model | Should -Be @($trio.Chat, $trio.Chat)
        $totals.Base | Should -Be @($trio.Base, $trio.Cp)
        foreach ($total in $totals) {
            $alone = Get-ChatVector -Base $total.Base -Chat $trio.Chat -Name 'model.layers.0.*' | Measure-ChatVector -Summary | Where-Object Scope -EQ Total
            $total.L2Norm | Should -Be $alone.L2Norm
            $total.Elements | Should -Be $alone.Elements
        }
        (Get-SafeTensor $trio.Cp -Name 'model.norm.weight' | Measure-ChatVector).Base | Should -BeNullOrEmpty
        # At the prompt the two groups are told apart by their folders.
        $shown = $rows | Out-String -Width 80
        $short = { param($p) '{0}/{1}' -f (Split-Path -Leaf (Split-Path $p)), (Split-Path -Leaf $p) }
        $shown | Should -Match ('(?m)^\s*From: {0} - {1}\s*$' -f [regex]::Escape((& $short $trio.Chat)), [regex]::Escape((& $short $trio.Base)))
        $shown | Should -Match ('(?m)^\s*From: {0} - {1}\s*$' -f [regex]::Escape((& $short $trio.Chat)), [regex]::Escape((& $short $trio.Cp)))
    }

    It 'finds a saved vector''s base model from its provenance for the relative norm' {
        $cv = Join-Path $TestDrive 'cv'
        $name = 'model.layers.0.self_attn.q_proj.weight'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Export-SafeTensor $cv
        $m = Get-SafeTensor $cv -Name $name | Measure-ChatVector
        $base = [double[]]($trio.BaseValues[$name] | ForEach-Object { [double]$_ })
        Assert-Near $m.RelativeNorm ((Get-Norm ([double[]](Get-Vector $name))) / (Get-Norm $base)) 'RelativeNorm'
    }

    It 'measures a model''s own tensors, with no relative norm or cosine' {
        $m = Get-SafeTensor $trio.Cp -Name model.norm.weight | Measure-ChatVector
        $m.DType | Should -Be 'BF16'
        Assert-Near $m.L2Norm (Get-Norm ([double[]]($trio.CpValues['model.norm.weight'] | ForEach-Object { [double]$_ }))) 'L2Norm'
        $m.RelativeNorm | Should -BeNullOrEmpty
        $m.Cosine | Should -BeNullOrEmpty
    }

    It 'counts zeros, NaN and Inf' {
        $path = Join-Path $TestDrive 'values.safetensors'
        $values = [float[]](0, 0, 1, 2, [float]::NaN, [float]::PositiveInfinity, -3, 0)
        [ChatVector.TestKit.SafeTensorsWriter]::WriteF32($path, 'x', $values)

        $m = Get-SafeTensor $path | Measure-ChatVector
        $m.NaNCount | Should -Be 1
        $m.InfCount | Should -Be 1
        $m.Min | Should -Be -3
        $m.Max | Should -Be 2
        $m.Elements | Should -Be 8
        $m.ZeroFraction | Should -Be (3 / 8)
    }

    It 'warns and leaves the cosine out for a tensor -Reference does not have' {
        $reference = Join-Path $TestDrive 'reference.safetensors'
        Get-SafeTensor $trio.Chat -Name model.norm.weight | Export-SafeTensor $reference
        $rows = Get-ChatVector $trio.Base $trio.Chat -Name model.norm.weight, model.layers.0.input_layernorm.weight |
            Measure-ChatVector -Reference $reference -WarningVariable warnings -WarningAction SilentlyContinue
        ($rows | Where-Object Name -EQ model.norm.weight).Cosine | Should -Not -BeNullOrEmpty
        ($rows | Where-Object Name -EQ model.layers.0.input_layernorm.weight).Cosine | Should -BeNullOrEmpty
        "$warnings" | Should -BeLike "*model.layers.0.input_layernorm.weight*no tensor of that name*"
    }

    It 'stops with a terminating error naming a -Reference that does not exist' {
        $record = { Get-ChatVector $trio.Base $trio.Chat | Measure-ChatVector -Reference (Join-Path $TestDrive 'no-such-reference') } |
            Should -Throw -PassThru
        $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $record.Exception.Message | Should -BeLike '*no-such-reference*'
    }

    It 'refuses an unknown device with a terminating DeviceUnavailable error' {
        { Get-ChatVector $trio.Base $trio.Chat | Measure-ChatVector -Device tpu } |
            Should -Throw -ErrorId 'DeviceUnavailable,ChatVector.PowerShell.Cmdlets.MeasureChatVectorCommand'
    }

    It 'renders as a table with the name, the norm and the relative norm' {
        $m = Get-ChatVector $trio.Base $trio.Chat -Name model.norm.weight | Measure-ChatVector
        $text = $m | Out-String -Width 250
        $text | Should -Match 'Name\s+L2Norm\s+RelNorm'
        $text | Should -Match "model\.norm\.weight\s+$([regex]::Escape($m.L2Norm.ToString('G4', [cultureinfo]::InvariantCulture)))"
    }
}
