using GroupPay.Grains.Orders;

namespace GroupPay.Grains.Operations;

/// <summary>
/// One item of the operator queue and its log. The log keeps the last <see cref="OperatorItemRules.MaxActions"/>
/// actions (older ones are dropped and counted), reports longer than the limits are cut, so the state stays bounded
/// however often a grain reports the same problem.
/// </summary>
[GrainType("operator-item")]
public sealed class OperatorItemGrain(
    [PersistentState("item", GrainStorage.Name)] IPersistentState<OperatorItemState> state,
    TimeProvider timeProvider) : Grain, IOperatorItemGrain
{
    private const int MaxTextLength = 1000;
    private const int MaxTried = 20;

    private static readonly HashSet<OperatorItemKind> Retryable =
        [OperatorItemKind.RefundStuck, OperatorItemKind.RefundRefused, OperatorItemKind.RefundAbnormal];

    private string ItemId => this.GetPrimaryKeyString();

    public async Task<OperatorItem> RaiseAsync(OperatorItemReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.ItemId != ItemId)
        {
            throw new InvalidRequestException($"The report is for item '{report.ItemId}', not '{ItemId}'.");
        }
        var summary = Cut(report.Summary) ?? "";
        var lastAnswer = Cut(report.LastAnswer);
        IReadOnlyList<string> tried = [.. (report.Tried ?? []).TakeLast(MaxTried).Select(t => Cut(t) ?? "")];
        var item = state.State.Item;
        if (item is null)
        {
            return await SaveAsync(new OperatorItem(
                ItemId, report.Kind, OperatorItemStatus.Open, report.GroupId, report.OutTradeNo, report.AmountFen, summary, lastAnswer, tried,
                report.At, report.At, 1, [new OperatorAction(report.At, OperatorItemRules.SystemActor, "raised", summary)]));
        }
        var updated = item with
        {
            Status = OperatorItemStatus.Open,
            Summary = summary,
            LastAnswer = lastAnswer,
            Tried = tried,
            AmountFen = report.AmountFen,
            LastSeen = report.At,
            Reports = item.Reports + 1,
        };
        if (item.Status == OperatorItemStatus.Resolved)
        {
            return await SaveAsync(Log(updated, new OperatorAction(report.At, OperatorItemRules.SystemActor, "reopened", summary)));
        }
        // The same problem reported again (every retry of a stuck refund, say) is counted but not logged again.
        var changed = item.Summary != summary || item.LastAnswer != lastAnswer;
        return await SaveAsync(changed ? Log(updated, new OperatorAction(report.At, OperatorItemRules.SystemActor, "reported-again", summary)) : updated);
    }

    public async Task<OperatorItem?> SettleAsync(string note)
    {
        if (state.State.Item is not { } item || item.Status == OperatorItemStatus.Resolved)
        {
            return state.State.Item;
        }
        return await SaveAsync(Log(item with { Status = OperatorItemStatus.Resolved }, Action(OperatorItemRules.SystemActor, "settled", Cut(note))));
    }

    public async Task<OperatorItem> RetryAsync(string actor, string? note)
    {
        if (OperatorItemRules.ActorOrNoteProblem(actor, note, noteRequired: false) is { } problem)
        {
            throw new InvalidRequestException(problem);
        }
        var item = Existing();
        if (!Retryable.Contains(item.Kind))
        {
            throw new InvalidRequestException($"Only refund items can be retried; '{ItemId}' is {item.Kind}.");
        }
        if (item.Status != OperatorItemStatus.Open)
        {
            throw new InvalidRequestException($"Item '{ItemId}' is resolved; only open items can be retried.");
        }
        if (item.GroupId is null || item.OutTradeNo is null)
        {
            throw new InvalidRequestException($"Item '{ItemId}' names no payment to refund.");
        }
        // The order grain records the retry (its own outbox) before it answers; only then is it logged here.
        await GrainFactory.GetGrain<IOrderGrain>(item.GroupId).RetryRefundAsync(item.OutTradeNo, actor);
        return await SaveAsync(Log(item, Action(actor, "retried", note)));
    }

    public async Task<OperatorItem> ResolveAsync(string actor, string note)
    {
        if (OperatorItemRules.ActorOrNoteProblem(actor, note, noteRequired: true) is { } problem)
        {
            throw new InvalidRequestException(problem);
        }
        var item = Existing();
        return await SaveAsync(Log(item with { Status = OperatorItemStatus.Resolved }, Action(actor, "resolved", note)));
    }

    public Task<OperatorItem?> GetAsync() => Task.FromResult(state.State.Item);

    private OperatorItem Existing() => state.State.Item ?? throw new UnknownOperatorItemException(ItemId);

    private OperatorAction Action(string actor, string action, string? note) => new(timeProvider.GetUtcNow(), actor, action, note);

    /// <summary>Appends to the log, dropping (and counting) the oldest entries beyond the cap.</summary>
    private static OperatorItem Log(OperatorItem item, OperatorAction action)
    {
        var dropped = Math.Max(0, item.Actions.Count + 1 - OperatorItemRules.MaxActions);
        return item with
        {
            Actions = [.. item.Actions.Skip(dropped), action],
            EarlierActions = item.EarlierActions + dropped,
        };
    }

    private static string? Cut(string? text) => text is { Length: > MaxTextLength } ? text[..MaxTextLength] : text;

    /// <summary>Persist, then acknowledge. A failed write fails the call, and the activation goes back to what is
    /// stored: the unsaved item is dropped here and the activation is replaced, so the next call reads the store.</summary>
    private async Task<OperatorItem> SaveAsync(OperatorItem item)
    {
        var previous = state.State.Item;
        state.State.Item = item;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Item = previous;
            DeactivateOnIdle();
            throw;
        }
        return item;
    }
}
