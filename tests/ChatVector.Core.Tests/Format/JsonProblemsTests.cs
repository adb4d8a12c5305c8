using ChatVector.Core.Format;
using Xunit;

namespace ChatVector.Core.Tests.Format;

public class JsonProblemsTests
{
    private static (string Detail, Exception? Inner) Refusal(string text)
    {
        using var dir = new TempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, text);
        (string, Exception?) seen = default;
        var thrown = Assert.Throws<InvalidDataException>(() => JsonProblems.ReadObjectFile(path, (detail, inner) =>
        {
            seen = (detail, inner);
            return new InvalidDataException(detail, inner);
        }));
        Assert.Same(seen.Item2, thrown.InnerException);
        return seen;
    }

    [Fact]
    public void Broken_json_is_reported_by_line_in_plain_words_keeping_the_parser_error_inside()
    {
        var (detail, inner) = Refusal("{\n  \"hidden_size\": 16,\n  \"vocab_size\": ]\n}");
        Assert.StartsWith("is not valid JSON at line 3, position ", detail);
        Assert.NotNull(inner); // the parser's own report stays available, never in the message
        Assert.DoesNotContain("JsonReader", detail);
        Assert.DoesNotContain("Path '", detail);
    }

    [Theory]
    [InlineData("[1, 2]", "array")]
    [InlineData("\"LlamaForCausalLM\"", "string")]
    [InlineData("42", "number")]
    [InlineData("null", "null")]
    public void Json_that_is_not_an_object_names_its_kind(string text, string kind)
    {
        var (detail, inner) = Refusal(text);
        Assert.StartsWith($"holds a JSON {kind} where an object ({{ ... }}) belongs", detail);
        Assert.Null(inner);
    }

    [Fact]
    public void An_object_is_returned_as_read()
    {
        using var dir = new TempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, """{"hidden_size": 16}""");
        Assert.Equal(16, (int)JsonProblems.ReadObjectFile(path, (_, _) => new InvalidDataException())["hidden_size"]!);
    }
}
