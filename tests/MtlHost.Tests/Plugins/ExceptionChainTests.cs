using System.Globalization;
using System.Reflection;
using MtlHost.Abstractions;
using MtlHost.Abstractions.Messages;
using Shouldly;
using Xunit;

namespace MtlHost.Tests.Plugins;

public sealed class ExceptionChainTests
{
    [Fact]
    public void Describe_names_the_type_and_message_of_every_inner_exception_outermost_first()
    {
        var exception = new InvalidOperationException("outer", new IOException("middle", new FormatException("inner")));

        ExceptionChain.Describe(exception).ShouldBe("InvalidOperationException: outer ← IOException: middle ← FormatException: inner");
    }

    [Fact]
    public void A_failing_type_initializer_shows_the_exception_that_made_it_fail()
    {
        var exception = Should.Throw<TypeInitializationException>(() => NeedsACulture.Name);

        var description = ExceptionChain.Describe(exception);

        description.ShouldStartWith("TypeInitializationException: The type initializer for 'NeedsACulture' threw an exception.");
        description.ShouldEndWith(" ← CultureNotFoundException: xx-YY is an invalid culture identifier. (Parameter 'name') xx-YY is an invalid culture identifier.");
    }

    [Fact]
    public void Wrappers_that_add_nothing_are_left_out()
    {
        var invoked = new TargetInvocationException(new AggregateException(new ArgumentException("bad argument")));

        ExceptionChain.Describe(invoked).ShouldBe("ArgumentException: bad argument");
    }

    [Fact]
    public void An_aggregate_of_several_exceptions_is_described_by_its_own_message_which_lists_them()
    {
        var aggregate = new AggregateException(new ArgumentException("first"), new FormatException("second"));

        ExceptionChain.Describe(aggregate).ShouldBe("AggregateException: One or more errors occurred. (first) (second)");
    }

    [Fact]
    public void Messages_are_put_on_one_line_and_a_link_that_repeats_its_cause_is_said_once()
    {
        var exception = new InvalidOperationException("first line\n   second line\r\n", new InvalidOperationException("first line second line"));

        ExceptionChain.Describe(exception).ShouldBe("InvalidOperationException: first line second line");
    }

    [Fact]
    public void MessageWithCauses_keeps_an_author_facing_message_without_its_type_and_adds_the_causes()
    {
        ExceptionChain.MessageWithCauses(new TaskDataException("Task 'x': data file 'a.jsonl' does not exist."))
            .ShouldBe("Task 'x': data file 'a.jsonl' does not exist.");
        ExceptionChain.MessageWithCauses(new TaskDataException("Task 'x': the corpus cannot be read.", new IOException("disk full")))
            .ShouldBe("Task 'x': the corpus cannot be read. ← IOException: disk full");
    }

    private static class NeedsACulture
    {
        public static readonly string Name = Find();

        private static string Find() => throw new CultureNotFoundException("name", "xx-YY", "xx-YY is an invalid culture identifier.");
    }
}
