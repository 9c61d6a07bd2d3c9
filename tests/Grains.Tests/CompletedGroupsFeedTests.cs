using GroupPay.Grains.Orders;

namespace GroupPay.Grains.Tests;

/// <summary>The completed-groups feed's rules (docs/clients.md): bounded, numbered, a group kept once, and a slow
/// reader told what it missed.</summary>
public sealed class CompletedGroupsFeedTests
{
    private static CompletedGroup Group(int n) => new($"g{n:D6}", "c1", DateTimeOffset.UnixEpoch.AddMinutes(n), ["o-leader", "o-member"]);

    [Fact]
    public void AGroupIsKeptOnceUnderTheNextNumber()
    {
        var feed = new CompletedGroupsState();

        Assert.True(feed.Append(Group(1), capacity: 10));
        Assert.False(feed.Append(Group(1), capacity: 10));
        Assert.True(feed.Append(Group(2), capacity: 10));

        var page = feed.Read(0, 100);
        Assert.Equal([1L, 2L], page.Entries.Select(e => e.Sequence));
        Assert.Equal(2, page.Cursor);
        Assert.Equal(0, page.Missed);
        Assert.Empty(feed.Read(2, 100).Entries);
        Assert.Equal(2, feed.Read(2, 100).Cursor);
    }

    [Fact]
    public void TheFeedKeepsItsCapacityAndNumbersAreNeverReused()
    {
        var feed = new CompletedGroupsState();
        for (var n = 1; n <= 25; n++)
        {
            feed.Append(Group(n), capacity: 10);
        }

        Assert.Equal(10, feed.Entries.Count);
        Assert.Equal(16, feed.Entries[0].Sequence);
        Assert.Equal(25, feed.LastSequence);
        // A group dropped from the feed is no longer known to it: a late repeat would be a new entry.
        Assert.DoesNotContain(feed.Entries, e => e.Group.GroupId == Group(1).GroupId);
    }

    [Fact]
    public void AReaderTooFarBehindIsToldHowManyItMissedAndReadsOnFromTheOldestKept()
    {
        var feed = new CompletedGroupsState();
        for (var n = 1; n <= 25; n++)
        {
            feed.Append(Group(n), capacity: 10);
        }

        var page = feed.Read(after: 5, limit: 4);

        Assert.Equal(10, page.Missed); // 6..15 were dropped
        Assert.Equal([16L, 17L, 18L, 19L], page.Entries.Select(e => e.Sequence));
        Assert.Equal(19, page.Cursor);
        var next = feed.Read(page.Cursor, 100);
        Assert.Equal(0, next.Missed);
        Assert.Equal(6, next.Entries.Count);
        Assert.Equal(25, next.Cursor);
    }

    [Fact]
    public void AnEmptyFeedReadsNothing()
    {
        var page = new CompletedGroupsState().Read(0, 100);

        Assert.Empty(page.Entries);
        Assert.Equal(0, page.Cursor);
        Assert.Equal(0, page.Missed);
    }
}
