using ImageForge.Core.Builds;
using Shouldly;
using Xunit;

namespace ImageForge.Core.Tests.Builds;

public sealed class ImportSlotsSpecs
{
    private static readonly TimeSpan Moment = TimeSpan.FromMilliseconds(200);

    [Fact(Timeout = 10_000)]
    public async Task A_second_import_into_a_provider_at_its_limit_waits_until_the_first_ends_and_says_so()
    {
        var slots = ImportSlots.PerProvider(new Dictionary<string, int> { ["aws"] = 1 });
        var waited = new List<int>();
        var first = await slots.EnterAsync("aws", waited.Add);

        var second = slots.EnterAsync("aws", waited.Add);
        await Task.Delay(Moment);
        second.IsCompleted.ShouldBeFalse();
        waited.ShouldBe([1]);

        first.Dispose();
        (await second.WaitAsync(Moment * 10)).Dispose();
    }

    [Fact(Timeout = 10_000)]
    public async Task Each_provider_has_its_own_slots_and_one_not_listed_has_one()
    {
        var slots = ImportSlots.PerProvider(new Dictionary<string, int> { ["azure"] = 2 });
        var never = new List<int>();

        using var azure1 = await slots.EnterAsync("azure", never.Add);
        using var azure2 = await slots.EnterAsync("azure", never.Add);
        using var gcp = await slots.EnterAsync("gcp", never.Add);
        never.ShouldBeEmpty();

        slots.LimitOf("gcp").ShouldBe(1);
        var secondGcp = slots.EnterAsync("gcp", never.Add);
        await Task.Delay(Moment);
        secondGcp.IsCompleted.ShouldBeFalse();
    }

    [Fact(Timeout = 10_000)]
    public async Task Without_limits_every_import_starts_at_once()
    {
        var never = new List<int>();
        var entered = await Task.WhenAll(
            Enumerable.Range(0, 8).Select(_ => ImportSlots.Unlimited.EnterAsync("aws", never.Add))
        );

        never.ShouldBeEmpty();
        ImportSlots.Unlimited.LimitOf("aws").ShouldBeNull();
        foreach (var slot in entered)
        {
            slot.Dispose();
        }
    }

    [Fact(Timeout = 10_000)]
    public async Task A_cancelled_wait_takes_no_slot_and_a_slot_freed_twice_frees_one()
    {
        var slots = ImportSlots.PerProvider(new Dictionary<string, int> { ["aws"] = 1 });
        var first = await slots.EnterAsync("aws", _ => { });
        using var cancel = new CancellationTokenSource();

        var waiting = slots.EnterAsync("aws", _ => { }, cancel.Token);
        await cancel.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(waiting);

        first.Dispose();
        first.Dispose();
        using var next = await slots.EnterAsync("aws", _ => { });
        var beyond = slots.EnterAsync("aws", _ => { });
        await Task.Delay(Moment);
        beyond.IsCompleted.ShouldBeFalse();
    }
}
