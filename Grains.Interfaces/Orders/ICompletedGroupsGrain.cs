using Orleans.Concurrency;

namespace GroupPay.Grains.Orders;

/// <summary>
/// The shop's feed of completed groups (拼团成功, what a fulfilment service ships), key 0; docs/clients.md. Each
/// group that completes is appended once it is stored as complete, delivered from the group's outbox at least once and
/// kept once (a repeat of a group still in the feed is ignored). Bounded: the newest <see cref="Capacity"/> entries,
/// each numbered in order (<see cref="CompletedGroupEntry.Sequence"/>, 1, 2, …), so a reader keeps its own cursor
/// and polls <see cref="ReadAsync"/>; a reader that falls more than <see cref="Capacity"/> completions behind is
/// told how many it missed (<see cref="CompletedGroupsPage.Missed"/>).
/// </summary>
[Alias("grouppay.ICompletedGroupsGrain")]
public interface ICompletedGroupsGrain : IGrainWithIntegerKey
{
    /// <summary>How many of the newest completions the feed keeps.</summary>
    public const int Capacity = 1000;

    /// <summary>The most entries one read returns.</summary>
    public const int MaxPage = 100;

    /// <summary>Appends a completed group (the group's outbox calls it); idempotent while the group is in the feed.</summary>
    [Alias("AppendAsync")]
    Task AppendAsync(CompletedGroup group);

    /// <summary>The entries after <paramref name="after"/> (0: from the oldest kept), oldest first, at most
    /// <paramref name="limit"/> (1..<see cref="MaxPage"/>).</summary>
    /// <exception cref="InvalidRequestException"><paramref name="after"/> is negative or the limit out of range.</exception>
    [Alias("ReadAsync"), ReadOnly]
    Task<CompletedGroupsPage> ReadAsync(long after, int limit);
}

/// <summary>A group that completed: every slot paid (or virtually filled), the units sold. <see cref="Members"/>
/// are the openids of the paid slots, the leader first: one unit each to ship (a virtually filled slot has none).</summary>
[GenerateSerializer, Immutable, Alias("grouppay.CompletedGroup")]
public sealed record CompletedGroup(
    [property: Id(0)] string GroupId,
    [property: Id(1)] string CampaignId,
    [property: Id(2)] DateTimeOffset CompletedAt,
    [property: Id(3)] IReadOnlyList<string> Members);

[GenerateSerializer, Immutable, Alias("grouppay.CompletedGroupEntry")]
public sealed record CompletedGroupEntry([property: Id(0)] long Sequence, [property: Id(1)] CompletedGroup Group);

/// <summary>One read of the feed. <see cref="Cursor"/> is the <c>after</c> of the next read (the last entry's
/// sequence, or the one asked for when there is nothing new); <see cref="Missed"/> counts the entries after the
/// asked-for cursor that the feed no longer holds (the reader fell behind by more than its capacity).</summary>
[GenerateSerializer, Immutable, Alias("grouppay.CompletedGroupsPage")]
public sealed record CompletedGroupsPage(
    [property: Id(0)] IReadOnlyList<CompletedGroupEntry> Entries,
    [property: Id(1)] long Cursor,
    [property: Id(2)] long Missed);
