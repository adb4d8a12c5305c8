# The scripts in examples/merge-methods, one per mergekit method (README.md's table), run as a user runs them:
# in a child pwsh, on examples/tiny. Each must write a valid model folder whose recipe records the mixing the
# table promises.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    function Invoke-Example([string] $Method, [string] $Output) {
        $script = [IO.Path]::Combine($RepoRoot, 'examples', 'merge-methods', "$Method.ps1")
        $pwsh = Get-ChildPwshCommand
        [string[]] $arguments = @($pwsh | Select-Object -Skip 1)
        $text = & $pwsh[0] @arguments -NoProfile -NonInteractive -File $script -Output $Output -NoBuild 2>&1 | Out-String
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = $text }
    }
}

Describe 'The mergekit-method examples run and write valid models' -Tag 'Examples' {
    BeforeDiscovery {
        $methods = @(
            @{ Method = 'task_arithmetic'; Consensus = 'none'; Normalize = $false }
            @{ Method = 'linear'; Consensus = 'none'; Normalize = $true }
            @{ Method = 'ties'; Consensus = 'sum'; Normalize = $true }
            @{ Method = 'dare_linear'; Consensus = 'none'; Normalize = $false }
            @{ Method = 'dare_ties'; Consensus = 'sum'; Normalize = $false }
            @{ Method = 'breadcrumbs'; Consensus = 'none'; Normalize = $false }
            @{ Method = 'breadcrumbs_ties'; Consensus = 'sum'; Normalize = $false }
            @{ Method = 'della'; Consensus = 'sum'; Normalize = $true }
            @{ Method = 'della_linear'; Consensus = 'none'; Normalize = $false }
        )
    }

    BeforeAll {
        function Assert-ExampleOutput([string] $Method, [string] $Consensus, [bool] $Normalize) {
            $out = Join-Path $TestDrive $Method
            $run = Invoke-Example $Method $out
            $run.ExitCode | Should -Be 0 -Because $run.Output
            (Test-SafeTensor $out -Data).Valid | Should -BeTrue
            $file = Get-ChildItem $out -Filter *.safetensors | Select-Object -First 1
            $recipe = ([ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($file.FullName)).Metadata['chatvector.recipe'] | ConvertFrom-Json
            $recipe.consensus | Should -Be $Consensus
            $recipe.normalize | Should -Be $Normalize
            $recipe.vectors.Count | Should -Be 2
            Test-Path (Join-Path $out 'README.md') | Should -BeTrue
            (Get-Content (Join-Path $out 'tokenizer_config.json') | ConvertFrom-Json).chat_template | Should -Not -BeNullOrEmpty
        }
    }

    It 'has a script for every method in the table, and a row for every script' {
        $scripts = Get-ChildItem ([IO.Path]::Combine($RepoRoot, 'examples', 'merge-methods')) -Filter *.ps1 |
            Where-Object Name -ne 'Start-Example.ps1' | ForEach-Object BaseName | Sort-Object
        $scripts | Should -Be ('task_arithmetic', 'linear', 'ties', 'dare_linear', 'dare_ties', 'breadcrumbs', 'breadcrumbs_ties', 'della', 'della_linear' | Sort-Object)
        $readme = Get-Content (Join-Path $RepoRoot 'README.md') -Raw
        foreach ($method in $scripts) { $readme | Should -Match "\| ``$method`` \|" -Because "README's table maps $method" }
    }

    It '<Method> writes a valid folder with consensus <Consensus> and normalize <Normalize> in its recipe' -ForEach $methods {
        Assert-ExampleOutput $Method $Consensus $Normalize
    }
}
