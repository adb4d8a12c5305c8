using ChatVector.Core.Tokenization;
using Xunit;

namespace ChatVector.Core.Tests.Tokenization;

/// <summary>What counts as "the tokenizers library is not there" (win-x64 today), where token ids still work.</summary>
public sealed class TokenizerLibraryMissingTests
{
    [Fact]
    public void A_missing_or_unusable_native_library_is_recognised_however_it_surfaces()
    {
        Assert.True(TokenizerFile.IsLibraryMissing(new DllNotFoundException("hf_tokenizers")));
        Assert.True(TokenizerFile.IsLibraryMissing(new EntryPointNotFoundException()));
        Assert.True(TokenizerFile.IsLibraryMissing(new TypeInitializationException("Tokenizers.DotNet.NativeMethods", new DllNotFoundException("hf_tokenizers"))));
    }

    [Fact]
    public void Other_failures_are_not_taken_for_a_missing_library()
    {
        Assert.False(TokenizerFile.IsLibraryMissing(new InvalidOperationException("hf_tokenizers")));
        Assert.False(TokenizerFile.IsLibraryMissing(new TypeInitializationException("X", new FormatException())));
    }

    [Fact]
    public void The_message_names_the_library_and_the_platform()
    {
        Assert.Contains("hf_tokenizers", TokenizerFile.LibraryMissingMessage);
        Assert.Contains(System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, TokenizerFile.LibraryMissingMessage);
    }
}
