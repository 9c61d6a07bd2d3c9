using GroupPay.Gateway.Api;
using GroupPay.Grains.Orders;

namespace GroupPay.Gateway.Tests;

/// <summary>The event stream sends a group again only when what the viewer sees changed.</summary>
public sealed class GroupJsonTests
{
    private static GroupJson Snapshot(SlotStatus second = SlotStatus.Free, int? mySlot = 0, bool refunded = false) => GroupJson.From(
        new GroupView("abcdef123456", "c1", GroupStatus.Open, 2, 1, DateTimeOffset.UnixEpoch, [
            new SlotView(0, SlotStatus.Paid, true, true, false),
            new SlotView(1, second, false, false, false),
        ], mySlot, 990, [new MyRefundView(990, refunded, Unused: true)]),
        "http://127.0.0.1/g/abcdef123456?ref=abcd2345");

    [Fact]
    public void TwoReadsOfAnUnchangedGroupAreTheSame() => Assert.True(Snapshot().SameAs(Snapshot()));

    [Fact]
    public void ASlotThatChangedMakesADifferentSnapshot() => Assert.False(Snapshot().SameAs(Snapshot(SlotStatus.Held)));

    [Fact]
    public void AFieldThatChangedMakesADifferentSnapshot() => Assert.False(Snapshot().SameAs(Snapshot(mySlot: null)));

    [Fact]
    public void ARefundThatSettledMakesADifferentSnapshot() => Assert.False(Snapshot().SameAs(Snapshot(refunded: true)));

    [Fact]
    public void StatusesAndTimesAreWrittenAsTheContractSays()
    {
        var json = Snapshot();

        Assert.Equal("open", json.Status);
        Assert.Equal(["paid", "free"], json.Slots.Select(s => s.Status));
        Assert.Equal(DateTimeKind.Utc, json.Deadline?.Kind);
        Assert.Equal(new MyRefundJson(990, "refunding", "not-used"), Assert.Single(json.MyRefunds));
    }
}
