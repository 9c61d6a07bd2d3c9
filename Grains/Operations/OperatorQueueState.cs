namespace GroupPay.Grains.Operations;

/// <summary>The queue's index, bounded: the open items (each one a problem nobody has settled yet) and the most
/// recently resolved ones (capped). The items themselves, with their logs, are <see cref="OperatorItemGrain"/>s.</summary>
[GenerateSerializer, Alias("grouppay.OperatorQueueState")]
public sealed class OperatorQueueState
{
    /// <summary>Item id → the open item's kind and first sighting.</summary>
    [Id(0)] public Dictionary<string, OperatorIndexEntry> Open { get; set; } = [];

    /// <summary>The last <see cref="OperatorQueueGrain.MaxResolved"/> items resolved, in the order they were resolved.</summary>
    [Id(1)] public List<OperatorIndexEntry> Resolved { get; set; } = [];
}

[GenerateSerializer, Immutable, Alias("grouppay.OperatorIndexEntry")]
public sealed record OperatorIndexEntry(
    [property: Id(0)] string ItemId,
    [property: Id(1)] OperatorItemKind Kind,
    [property: Id(2)] DateTimeOffset FirstSeen);
