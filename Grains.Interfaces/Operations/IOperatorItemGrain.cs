using Orleans.Concurrency;

namespace GroupPay.Grains.Operations;

/// <summary>
/// One operator item (key = its item id) and its bounded action log. Internal: callers go through
/// <see cref="IOperatorQueueGrain"/>, which keeps the index of open and recently resolved items in step.
/// </summary>
[Alias("grouppay.IOperatorItemGrain")]
public interface IOperatorItemGrain : IGrainWithStringKey
{
    /// <summary>Opens, updates or reopens the item; returns it once stored.</summary>
    [Alias("RaiseAsync")]
    Task<OperatorItem> RaiseAsync(OperatorItemReport report);

    /// <summary>Resolves an open item as the system; null when the item is unknown, already resolved items are returned unchanged.</summary>
    [Alias("SettleAsync")]
    Task<OperatorItem?> SettleAsync(string note);

    /// <exception cref="UnknownOperatorItemException">no such item.</exception>
    /// <exception cref="InvalidRequestException">not a refund item, or resolved.</exception>
    [Alias("RetryAsync")]
    Task<OperatorItem> RetryAsync(string actor, string? note);

    /// <exception cref="UnknownOperatorItemException">no such item.</exception>
    [Alias("ResolveAsync")]
    Task<OperatorItem> ResolveAsync(string actor, string note);

    [Alias("GetAsync"), ReadOnly]
    Task<OperatorItem?> GetAsync();
}

/// <summary>What an item id, an actor and a note may be; the grains and the gateway check the same rules.</summary>
public static class OperatorItemRules
{
    public const int MaxItemIdLength = 160;
    public const int MaxActorLength = 64;
    public const int MaxNoteLength = 500;

    /// <summary>The largest page <see cref="IOperatorQueueGrain.ListAsync"/> answers.</summary>
    public const int MaxPageSize = 200;

    /// <summary>How many actions an item keeps; older ones are dropped and counted.</summary>
    public const int MaxActions = 100;

    /// <summary>The actor of what GroupPay does by itself.</summary>
    public const string SystemActor = "system";

    /// <summary>Item ids: 1..160 of <c>[0-9A-Za-z:_./-]</c>.</summary>
    public static bool IsItemId(string? value) =>
        value is { Length: >= 1 and <= MaxItemIdLength }
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '_' or '.' or '/' or '-');

    /// <summary>The first rule an operator's actor or note breaks, or null.</summary>
    public static string? ActorOrNoteProblem(string? actor, string? note, bool noteRequired)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            return "actor is required";
        }
        if (actor.Length > MaxActorLength)
        {
            return $"actor is at most {MaxActorLength} characters";
        }
        if (noteRequired && string.IsNullOrWhiteSpace(note))
        {
            return "note is required";
        }
        return note is { Length: > MaxNoteLength } ? $"note is at most {MaxNoteLength} characters" : null;
    }
}

/// <summary>The kinds' names outside .NET (JSON, query strings, metric tags): kebab case, <c>refund-stuck</c> for
/// <see cref="OperatorItemKind.RefundStuck"/>.</summary>
public static class OperatorItemKinds
{
    private static readonly Dictionary<OperatorItemKind, string> Names =
        Enum.GetValues<OperatorItemKind>().ToDictionary(k => k, k => KebabCase(k.ToString()));

    private static readonly Dictionary<string, OperatorItemKind> ByName = Names.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal);

    public static string Name(OperatorItemKind kind) => Names[kind];

    public static bool TryParse(string? name, out OperatorItemKind kind) => ByName.TryGetValue(name ?? "", out kind);

    /// <summary>Every name, in declaration order.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Names.Values];

    private static string KebabCase(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
