using ChatVector.Core.Models;
using ChatVector.Core.Tensors;
using Xunit;

namespace ChatVector.Core.Tests.Tensors;

/// <summary>Reading a model never locks it against others: no handle is held between reads, none takes a write lock.</summary>
public sealed class StoredTensorSourceTests
{
    [Fact]
    public void An_opened_and_read_model_can_still_be_opened_exclusively_by_another_writer()
    {
        using var trio = new Trio();
        var model = StoredModel.Open(trio.CpPath);
        var source = new StoredTensorSource(model.Tensors[0]);
        source.CopyBytes(0, new byte[16], ComputeContext.Cpu());
        foreach (var file in model.Files)
        {
            // FileShare.None takes an exclusive lock: it would fail if the reader held any handle or lock.
            using var exclusive = new FileStream(file.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            Assert.True(exclusive.CanWrite);
        }
    }

    [Fact]
    public void Another_process_may_read_while_a_read_is_in_progress()
    {
        using var trio = new Trio();
        var model = StoredModel.Open(trio.CpPath);
        using var concurrentReader = new FileStream(model.Files[0].Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var source = new StoredTensorSource(model.Files[0].Tensors.Select(t => new StoredTensor(model.Files[0], t)).First());
        source.CopyBytes(0, new byte[16], ComputeContext.Cpu());
    }
}
