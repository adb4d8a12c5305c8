using ChatVector.Core.Export;
using ChatVector.Core.Format;
using ChatVector.Core.IO;
using ChatVector.Core.Merge;
using ChatVector.Core.Models;
using ChatVector.Core.Sparsify;
using ChatVector.Core.Tensors;
using ChatVector.TestKit;
using Xunit;

namespace ChatVector.Core.Tests.IO;

/// <summary>The held copies are process-wide: their suite runs alone, so the counts it reads are its own.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResidentTensorsCollection
{
    public const string Name = "ResidentTensors";
}

/// <summary>
/// Tensors held in memory (ResidentTensors): reads of a held tensor give the file's own bytes, copies stay within the
/// budget, a loan outlives its lease safely, and a TIES merge writes the same bytes whether its inputs are held or read.
/// </summary>
[Collection(ResidentTensorsCollection.Name)]
public sealed class ResidentTensorsTests : TempDirTest
{
    private const int MB = 1 << 20;

    /// <summary>One file of tensors "t0", "t1", ... of the given byte lengths, filled with seeded random bytes (returned by name).</summary>
    private (SafeTensorFile File, Dictionary<string, byte[]> Bytes) WriteTensors(string name, params int[] byteLengths)
    {
        var random = new Random(byteLengths.Length * 31 + byteLengths.Sum());
        var bytes = byteLengths.Select((length, i) =>
        {
            var data = new byte[length];
            random.NextBytes(data);
            return ($"t{i}", data);
        }).ToList();
        SafeTensorsWriter.Write(Dir.File(name), bytes.Select(b => (b.Item1, "U8", new long[] { b.data.Length }, b.data)).ToList());
        return (SafeTensorFile.Open(Dir.File(name)), bytes.ToDictionary(b => b.Item1, b => b.data));
    }

    private static (FileRange, RangeReader) Entry(SafeTensorFile file, string name) => file.RangeToHold(file.Find(name)!);

    private static byte[] Read(SafeTensorFile file, string name, long offset, int length)
    {
        var bytes = new byte[length];
        file.ReadTensorBytes(file.Find(name)!, offset, bytes);
        return bytes;
    }

    private static bool IsHeld(SafeTensorFile file, string name)
    {
        if (!file.TryBorrowTensorBytes(file.Find(name)!, 0, 1, out var loan)) return false;
        loan.Dispose();
        return true;
    }

    /// <summary>Runs <paramref name="test"/> with the budget set to <paramref name="budget"/>, then puts the default back.</summary>
    private static void WithBudget(long budget, Action test)
    {
        long saved = ResidentTensors.BudgetBytes;
        ResidentTensors.BudgetBytes = budget;
        try { test(); }
        finally
        {
            ResidentTensors.BudgetBytes = saved;
            ResidentTensors.ReleaseSpare();
        }
    }

    [Fact]
    public void A_held_tensor_reads_the_files_bytes_and_is_let_go_with_its_lease()
    {
        var (file, expected) = WriteTensors("a.safetensors", 3 * MB + 5, 1000);
        long copiesBefore = ResidentTensors.CopiesMade;
        var lease = ResidentTensors.TryHold([Entry(file, "t0"), Entry(file, "t1")]);

        Assert.NotNull(lease);
        Assert.Equal(2, ResidentTensors.CopiesMade - copiesBefore);
        Assert.Equal(4 * MB + MB, ResidentTensors.HeldBytes); // whole MB blocks: 4 MB and 1 MB
        Assert.True(IsHeld(file, "t0") && IsHeld(file, "t1"));
        foreach (var (offset, length) in new[] { (0L, 1), (0L, 3 * MB + 5), (MB - 3, 17), (3L * MB, 5) })
            Assert.Equal(expected["t0"].AsSpan((int)offset, length).ToArray(), Read(file, "t0", offset, length));
        Assert.True(file.TryBorrowTensorBytes(file.Find("t1")!, 10, 20, out var loan));
        using (loan) Assert.Equal(expected["t1"].AsSpan(10, 20).ToArray(), loan.Bytes.ToArray());

        lease!.Dispose();
        Assert.Equal(0, ResidentTensors.HeldBytes);
        Assert.False(IsHeld(file, "t0"));
        Assert.Equal(expected["t0"].AsSpan(7, 100).ToArray(), Read(file, "t0", 7, 100)); // from the file again
        ResidentTensors.ReleaseSpare();
        Assert.Equal(0, ResidentTensors.AllocatedBytes);
    }

    [Fact]
    public void Tensors_are_held_in_the_order_given_while_they_fit_the_budget() => WithBudget(3 * MB, () =>
    {
        var (file, _) = WriteTensors("b.safetensors", 2 * MB, 2 * MB, MB / 2);
        using var lease = ResidentTensors.TryHold([Entry(file, "t0"), Entry(file, "t1"), Entry(file, "t2")]);

        Assert.NotNull(lease);
        Assert.True(IsHeld(file, "t0"));
        Assert.False(IsHeld(file, "t1")); // 2 + 2 MB is over 3 MB
        Assert.True(IsHeld(file, "t2"));  // 2 + 1 MB fits
        Assert.Null(ResidentTensors.TryHold([Entry(file, "t1")])); // nothing more fits
        Assert.Equal(3 * MB, ResidentTensors.HeldBytes);
    });

    [Fact]
    public void A_tensor_already_held_is_shared_and_stays_until_its_last_lease_ends()
    {
        var (file, expected) = WriteTensors("c.safetensors", MB);
        long copiesBefore = ResidentTensors.CopiesMade;
        var first = ResidentTensors.TryHold([Entry(file, "t0")]);
        var second = ResidentTensors.TryHold([Entry(file, "t0")]);

        Assert.Equal(1, ResidentTensors.CopiesMade - copiesBefore);
        Assert.Equal(MB, ResidentTensors.HeldBytes);
        first!.Dispose();
        Assert.True(IsHeld(file, "t0"));
        Assert.Equal(expected["t0"].AsSpan(0, 64).ToArray(), Read(file, "t0", 0, 64));
        second!.Dispose();
        Assert.False(IsHeld(file, "t0"));
        Assert.Equal(0, ResidentTensors.HeldBytes);
    }

    [Fact]
    public void A_loan_keeps_its_bytes_after_the_lease_ends_until_it_is_given_back()
    {
        var (file, expected) = WriteTensors("d.safetensors", MB, MB);
        var lease = ResidentTensors.TryHold([Entry(file, "t0")]);
        Assert.True(file.TryBorrowTensorBytes(file.Find("t0")!, 100, 4096, out var loan));

        lease!.Dispose();
        Assert.Equal(MB, ResidentTensors.HeldBytes); // still lent: its block is neither reused nor freed
        using (var other = ResidentTensors.TryHold([Entry(file, "t1")])) // placed elsewhere: the lent room is not free yet
            Assert.Equal(expected["t0"].AsSpan(100, 4096).ToArray(), loan.Bytes.ToArray());
        loan.Dispose();
        Assert.Equal(0, ResidentTensors.HeldBytes);
        Assert.False(IsHeld(file, "t0"));
    }

    [Fact]
    public void Copies_stay_within_one_region_of_the_budgets_size_and_read_their_own_bytes() => WithBudget(6 * MB, () =>
    {
        var (file, expected) = WriteTensors("e.safetensors", 3 * MB, MB + 1, 2 * MB, MB, 4 * MB, 5 * MB + 1);
        var random = new Random(5);
        for (int round = 0; round < 40; round++)
        {
            var names = Enumerable.Range(0, 6).Where(_ => random.Next(2) == 0).Select(i => $"t{i}").ToList();
            using var lease = ResidentTensors.TryHold(names.Select(n => Entry(file, n)));
            Assert.Equal(6 * MB, ResidentTensors.AllocatedBytes); // one region of the budget's size
            Assert.InRange(ResidentTensors.HeldBytes, 0, 6 * MB);
            foreach (var name in names.Where(n => IsHeld(file, n)))
                Assert.Equal(expected[name].AsSpan(0, MB).ToArray(), Read(file, name, 0, MB));
        }
        Assert.Equal(0, ResidentTensors.HeldBytes);
        ResidentTensors.ReleaseSpare();
        Assert.Equal(0, ResidentTensors.AllocatedBytes);
    });

    [Fact]
    public void A_file_whose_tensor_is_held_is_told_apart_from_a_new_file_at_the_same_path()
    {
        var (file, _) = WriteTensors("f.safetensors", MB);
        using var lease = ResidentTensors.TryHold([Entry(file, "t0")]);
        var replacement = new byte[MB];
        Array.Fill(replacement, (byte)7);
        SafeTensorsWriter.Write(Dir.File("f.safetensors"), [("t0", "U8", new long[] { MB }, replacement)]);
        File.SetLastWriteTimeUtc(Dir.File("f.safetensors"), DateTime.UtcNow.AddMinutes(1)); // a new identity even within the clock's grain
        var reopened = SafeTensorFile.Open(Dir.File("f.safetensors"));

        Assert.False(IsHeld(reopened, "t0"));
        Assert.Equal(replacement.AsSpan(0, 32).ToArray(), Read(reopened, "t0", 0, 32));
    }

    /// <summary>base + TIES of (chat − base, cp − base) over the bf16 trio, as the benchmark and Limit-ChatVector | Add-ChatVector build it.</summary>
    private static IReadOnlyList<ITensorSource> TiesOutputs(Trio trio)
    {
        var @base = StoredModel.Open(trio.BasePath);
        var options = new SparsifyOptions(SparsifyMethod.Magnitude, 0.3, SparsifyOptions.DefaultGamma, SparsifyOptions.DefaultEpsilon, 0, Rescale: false);
        var vectors = new[] { trio.ChatPath, trio.CpPath }
            .SelectMany(other => ChatVectorPairing.Pair(@base, StoredModel.Open(other), _ => true).Vectors)
            .Select(v => new VectorInput(new SparsifiedTensor(v, options), 1.0, v.Provenance))
            .ToList();
        return MergePlanner.Plan(new MergeRequest(@base, vectors, Mixing: new MixOptions(ConsensusMethod.Sum, Normalize: true))).Outputs;
    }

    private static Dictionary<string, byte[]> Files(string folder) =>
        Directory.GetFiles(folder, "*.safetensors").ToDictionary(Path.GetFileName, File.ReadAllBytes)!;

    [Fact]
    public void A_tensor_whose_inputs_do_not_fit_beside_two_others_is_held_once_the_earlier_one_is_written()
    {
        using var trio = new Trio(extraCpRows: 0);
        var outputs = TiesOutputs(trio);
        Assert.All(outputs, output => Assert.True(output.ByteLength < MB, "each input must take one 1 MB block of the budget"));
        var inputs = outputs.SelectMany(o => Prefetching.StoredInputs([o])).ToList();
        Assert.True(inputs.Count >= 3 * 3, "the merge must hold the inputs of three tensors at least");
        // Room for the three inputs (base, chat, cp) of two tensors: the stream asks for the third tensor's while the
        // first tensor's are still held, so they are held only once the first is written.
        WithBudget(6 * MB, () =>
        {
            long copiesBefore = ResidentTensors.CopiesMade, readBefore = SafeTensorFile.BytesReadFromFiles;
            Trio.Export(trio.Output("held"), outputs, maxShard: "1MB");
            Assert.Equal(inputs.Count, ResidentTensors.CopiesMade - copiesBefore); // every input held
            Assert.Equal(inputs.Sum(i => i.Stored.Info.ByteLength), SafeTensorFile.BytesReadFromFiles - readBefore); // each read once
        });
        WithBudget(0, () => Trio.Export(trio.Output("read"), outputs, maxShard: "1MB"));

        var (heldFiles, readFiles) = (Files(trio.Output("held")), Files(trio.Output("read")));
        Assert.Equal(readFiles.Keys.Order(), heldFiles.Keys.Order());
        foreach (var (name, bytes) in readFiles) Assert.Equal(bytes, heldFiles[name]);
    }

    [Fact]
    public void A_failed_export_ends_holds_still_waiting_for_room_and_lets_every_copy_go()
    {
        using var trio = new Trio(extraCpRows: 0);
        const int failing = 4;
        // The failing tensor is never written, so a hold that waits for it to let go (the tensor two after it: with room
        // for two tensors' inputs, the one between holds the rest) waits until the stream ends.
        var outputs = TiesOutputs(trio).Select((o, i) => i == failing
            ? new Export.ExportFaultTests.FaultySource(o, () => throw new IOException("injected read failure"))
            : o).ToList();
        WithBudget(6 * MB, () =>
        {
            var export = Task.Run(() => Trio.Export(trio.Output("failed"), outputs, maxShard: "1MB"));
            Assert.True(((IAsyncResult)export).AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(60)), "the export hung");
            Assert.IsType<IOException>(export.Exception?.GetBaseException());
            Assert.Equal(0, ResidentTensors.HeldBytes);
            Assert.Equal(0, ResidentTensors.AllocatedBytes);
        });
        Assert.False(Directory.Exists(trio.Output("failed")));
    }

    [Fact]
    public void A_ties_merge_writes_the_same_bytes_with_its_inputs_held_or_read_from_the_files()
    {
        using var trio = new Trio(extraCpRows: 0);
        string held = trio.Output("held"), read = trio.Output("read");
        long copiesBefore = ResidentTensors.CopiesMade;
        Trio.Export(held, TiesOutputs(trio), maxShard: "1MB");
        Assert.True(ResidentTensors.CopiesMade - copiesBefore > 0, "the merge held no input");
        Assert.Equal(0, ResidentTensors.HeldBytes);
        Assert.Equal(0, ResidentTensors.AllocatedBytes); // the stream gave its spare copies back

        WithBudget(0, () =>
        {
            long copies = ResidentTensors.CopiesMade;
            Trio.Export(read, TiesOutputs(trio), maxShard: "1MB");
            Assert.Equal(copies, ResidentTensors.CopiesMade);
        });

        var (heldFiles, readFiles) = (Files(held), Files(read));
        Assert.Equal(readFiles.Keys.Order(), heldFiles.Keys.Order());
        foreach (var (name, bytes) in readFiles) Assert.Equal(bytes, heldFiles[name]);
    }

    [Theory]
    [InlineData("sce", "select_topk: 0.3")]
    [InlineData("slerp", "t: 0.3")]
    public void A_config_merge_writes_the_same_bytes_with_its_inputs_held_or_read_once_per_chunk(string method, string parameters)
    {
        using var trio = new Trio(extraCpRows: 0);
        string config = Path.Combine(trio.Root, $"{method}.yml");
        string models = method == "slerp"
            ? "models:\n  - model: chat\n  - model: cp\nbase_model: chat\n"
            : "models:\n  - model: chat\n  - model: cp\nbase_model: base\n";
        File.WriteAllText(config, $"merge_method: {method}\n{models}parameters: {{{parameters}}}\ndtype: bfloat16\n");
        string held = trio.Output("held"), read = trio.Output("read");
        Trio.Export(held, ChatVector.Core.Config.ConfigMerge.Plan(ChatVector.Core.Config.MergeConfig.Read(config)).Outputs, maxShard: "1MB");
        WithBudget(0, () =>
        {
            long copies = ResidentTensors.CopiesMade;
            Trio.Export(read, ChatVector.Core.Config.ConfigMerge.Plan(ChatVector.Core.Config.MergeConfig.Read(config)).Outputs, maxShard: "1MB");
            Assert.Equal(copies, ResidentTensors.CopiesMade);
        });
        var (heldFiles, readFiles) = (Files(held), Files(read));
        Assert.Equal(readFiles.Keys.Order(), heldFiles.Keys.Order());
        foreach (var (name, bytes) in readFiles) Assert.Equal(bytes, heldFiles[name]);
    }

    [Fact]
    public void A_chunks_inputs_are_read_once_for_the_thread_and_lent_to_every_reader_of_that_chunk() => WithBudget(0, () =>
    {
        var (file, bytes) = WriteTensors("chunk.safetensors", 4096, 4096);
        var sources = new[] { "t0", "t1", "t0" }.Select(name => new StoredTensorSource(new StoredTensor(file, file.Find(name)!))).ToArray();
        long before = SafeTensorFile.BytesReadFromFiles;
        using (var copies = ChunkInputCopies.Read(Prefetching.StoredInputs(sources), elementCount: 4096, firstElement: 1024, count: 2048))
        {
            Assert.True(copies.CoversAll);
            Assert.Equal(2 * 2048, SafeTensorFile.BytesReadFromFiles - before); // t0 once, though two sources read it
            long afterCopies = SafeTensorFile.BytesReadFromFiles;
            Assert.Equal(bytes["t0"][1500..1600], Read(file, "t0", 1500, 100));
            Assert.Equal(bytes["t1"][1024..3072], Read(file, "t1", 1024, 2048));
            Assert.Equal(afterCopies, SafeTensorFile.BytesReadFromFiles); // lent, not read again

            Assert.Equal(bytes["t0"][1000..1100], Read(file, "t0", 1000, 100)); // outside the chunk: from the file
            Assert.Equal(afterCopies + 100, SafeTensorFile.BytesReadFromFiles);
            byte[]? elsewhere = null;
            var other = new Thread(() => elsewhere = Read(file, "t1", 2000, 100)); // another thread: from the file
            other.Start();
            other.Join();
            Assert.Equal(bytes["t1"][2000..2100], elsewhere);
            Assert.Equal(afterCopies + 200, SafeTensorFile.BytesReadFromFiles);
        }
        long ended = SafeTensorFile.BytesReadFromFiles;
        Assert.Equal(bytes["t0"][1500..1600], Read(file, "t0", 1500, 100)); // the loans end with the scope
        Assert.Equal(ended + 100, SafeTensorFile.BytesReadFromFiles);
    });

    [Fact]
    public void A_nested_chunk_scope_ends_only_its_own_copies() => WithBudget(0, () =>
    {
        var (file, bytes) = WriteTensors("nested.safetensors", 4096, 4096);
        var t0 = new StoredTensorSource(new StoredTensor(file, file.Find("t0")!));
        var t1 = new StoredTensorSource(new StoredTensor(file, file.Find("t1")!));
        using var outer = ChunkInputCopies.Read([t0], elementCount: 4096, firstElement: 0, count: 1024);
        long before = SafeTensorFile.BytesReadFromFiles;
        using (ChunkInputCopies.Read([t0, t1], elementCount: 4096, firstElement: 0, count: 1024))
            Assert.Equal(1024, SafeTensorFile.BytesReadFromFiles - before); // t0 is lent by the outer scope already
        long afterInner = SafeTensorFile.BytesReadFromFiles;
        Assert.Equal(bytes["t0"][..1024], Read(file, "t0", 0, 1024)); // still lent by the outer scope
        Assert.Equal(afterInner, SafeTensorFile.BytesReadFromFiles);
        Assert.Equal(bytes["t1"][..100], Read(file, "t1", 0, 100)); // the inner scope's copy ended with it
        Assert.Equal(afterInner + 100, SafeTensorFile.BytesReadFromFiles);
    });

    [Fact]
    public void A_chunk_of_a_gigabyte_of_one_input_is_left_to_its_file() => WithBudget(0, () =>
    {
        // An F32 tensor of 2^28 elements: a chunk of all of it is 1 GB of input, past what the pooled arrays hold. The
        // data is a hole (a sparse file): nothing is read when the copy is rightly skipped.
        const long elements = 1L << 28;
        string path = Dir.File("huge.safetensors");
        var header = System.Text.Encoding.UTF8.GetBytes($"{{\"t\":{{\"dtype\":\"F32\",\"shape\":[{elements}],\"data_offsets\":[0,{elements * 4}]}}}}");
        var padded = header.Concat(Enumerable.Repeat((byte)' ', (8 - header.Length % 8) % 8)).ToArray();
        using (var stream = File.Create(path))
        {
            stream.Write(BitConverter.GetBytes((ulong)padded.Length));
            stream.Write(padded);
            stream.SetLength(8 + padded.Length + elements * 4);
        }
        var file = SafeTensorFile.Open(path);
        var source = new StoredTensorSource(new StoredTensor(file, file.Find("t")!));
        long before = SafeTensorFile.BytesReadFromFiles;
        using var copies = ChunkInputCopies.Read([source], elements, firstElement: 0, count: (int)elements);
        Assert.False(copies.CoversAll);
        Assert.Equal(before, SafeTensorFile.BytesReadFromFiles);
    });

    [Fact]
    public void A_chunk_copy_of_a_file_is_not_lent_for_a_new_file_at_the_same_path() => WithBudget(0, () =>
    {
        var (old, _) = WriteTensors("same.safetensors", 4096);
        var source = new StoredTensorSource(new StoredTensor(old, old.Find("t0")!));
        using var copies = ChunkInputCopies.Read([source], elementCount: 4096, firstElement: 0, count: 4096);
        File.SetLastWriteTimeUtc(Dir.File("same.safetensors"), DateTime.UtcNow.AddMinutes(1));
        var renewed = SafeTensorFile.Open(Dir.File("same.safetensors"));
        long before = SafeTensorFile.BytesReadFromFiles;
        _ = Read(renewed, "t0", 0, 100);
        Assert.Equal(before + 100, SafeTensorFile.BytesReadFromFiles);
    });
}
