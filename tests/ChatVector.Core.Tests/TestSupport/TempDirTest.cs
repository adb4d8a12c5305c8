namespace ChatVector.Core.Tests;

/// <summary>Base of the suites that write files: a fresh temp folder per test (xunit makes one instance a test), deleted after it.</summary>
public abstract class TempDirTest : IDisposable
{
    protected TempDir Dir { get; } = new();

    public void Dispose() => Dir.Dispose();
}
