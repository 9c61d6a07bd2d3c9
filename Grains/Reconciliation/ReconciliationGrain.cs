using System.Globalization;
using GroupPay.Grains.Ledger;
using GroupPay.Grains.Operations;
using GroupPay.Grains.Orders;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Reconciliation;

/// <summary>
/// One China-time day's reconciliation (key <c>yyyy-MM-dd</c>): downloads WeChat's bill (ALL), reads the ledger of the
/// day (and of the day before, for the midnight rule), reads the payments of every group they mention, runs
/// <see cref="BillReconciler"/>, raises one <c>reconciliation-mismatch</c> item per mismatch (ids
/// <c>recon:{day}:{kind}:{number}</c>, so a rerun updates them) and settles the items of the previous run that no
/// longer mismatch. The state holds the last report and the ids of the items it raised, both bounded.
/// </summary>
[GrainType("reconciliation")]
public sealed partial class ReconciliationGrain(
    [PersistentState("reconciliation", GrainStorage.Name)] IPersistentState<ReconciliationState> state,
    IWeChatPayClient weChatPay,
    IPaymentLedger ledger,
    TimeProvider timeProvider,
    IOptions<ReconciliationOptions> options,
    ILogger<ReconciliationGrain> logger) : Grain, IReconciliationGrain
{
    private ReconciliationState State => state.State;

    public Task<ReconciliationReport?> GetAsync() => Task.FromResult(State.Report);

    public async Task<ReconciliationReport> RunAsync()
    {
        var day = Day();
        var now = timeProvider.GetUtcNow();
        if (BillReconciler.DayOf(now) <= day)
        {
            throw new BillNotReadyException($"The day {Key(day)} is not over in China yet.");
        }
        var (bill, billExists) = await DownloadAsync(day) ?? throw new BillNotReadyException($"WeChat is still making the bill of {Key(day)} (Bill Creating).");
        var entries = await ledger.ReadDayAsync(day);
        // Of the previous day only its last minutes matter here (the midnight rule).
        var previousTail = BillReconciler.StartOf(day) - BillReconciler.MidnightWindow;
        var previousEntries = (await ledger.ReadDayAsync(day.AddDays(-1))).Where(e => e.At >= previousTail).ToList();
        var groups = await ReadGroupsAsync(GroupIds(bill, entries, previousEntries));
        var input = new ReconciliationInput
        {
            Day = day,
            BillRows = bill,
            Groups = groups,
            Ledger = entries,
            PreviousLedger = previousEntries,
        };
        if (BillReconciler.NeedsPreviousBill(input))
        {
            input = input with
            {
                PreviousBillRows = (await DownloadAsync(day.AddDays(-1)))?.Rows
                    ?? throw new BillNotReadyException($"WeChat is still making the bill of {Key(day.AddDays(-1))} (Bill Creating)."),
            };
        }
        var result = BillReconciler.Reconcile(input);

        var raised = await RaiseItemsAsync(day, result.Mismatches, now);
        foreach (var stale in State.ItemIds.Except(raised, StringComparer.Ordinal))
        {
            await Queue.SettleAsync(stale, $"No longer mismatched when {Key(day)} was reconciled again at {now:u}.");
        }

        var report = new ReconciliationReport(
            day, now, billExists, bill.Count, result.Bill, result.GroupPay, result.Mismatches.Count,
            result.Mismatches.GroupBy(m => m.Kind).ToDictionary(g => g.Key, g => g.Count()),
            [.. result.Mismatches.Take(ReconciliationReport.MaxLines)],
            (State.Report?.Runs ?? 0) + 1, groups.Count);
        State.Report = report;
        State.ItemIds = raised;
        await state.WriteOrReloadAsync(this);
        LogReconciled(logger, day, bill.Count, result.Mismatches.Count);
        return report;
    }

    private IOperatorQueueGrain Queue => GrainFactory.GetGrain<IOperatorQueueGrain>(0);

    private DateOnly Day() =>
        DateOnly.TryParseExact(this.GetPrimaryKeyString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day
            : throw new InvalidRequestException("A reconciliation is keyed by its China-time day, yyyy-MM-dd.");

    private static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The day's rows and whether WeChat had a bill (No Bill Exist: a day without trades); null while WeChat
    /// is still making it.</summary>
    private async Task<(IReadOnlyList<TradeBillRow> Rows, bool Exists)?> DownloadAsync(DateOnly day)
    {
        var result = await weChatPay.DownloadBillAsync(day, TradeBillType.All);
        if (result.Value is { } bill)
        {
            return (bill.Rows, true);
        }
        return result.Error!.Code switch
        {
            WeChatPayErrorCode.NoBillExist => ([], false),
            WeChatPayErrorCode.BillCreating => null,
            _ => throw new PaymentProviderException($"WeChat Pay did not give the bill of {Key(day)}: {result.Error.Code} {result.Error.Message}"),
        };
    }

    private static SortedSet<string> GroupIds(IReadOnlyList<TradeBillRow> bill, IReadOnlyList<LedgerEntry> entries, IReadOnlyList<LedgerEntry> previousEntries)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var row in bill)
        {
            if (TradeNumbers.GroupIdOf(row.OutTradeNo) is { } groupId)
            {
                ids.Add(groupId);
            }
        }
        ids.UnionWith(entries.Concat(previousEntries).Select(e => e.GroupId));
        return ids;
    }

    /// <summary>One <see cref="IOrderGrain.GetPaymentsAsync"/> per group, <see cref="ReconciliationOptions.Parallelism"/>
    /// at a time; a group GroupPay does not have is null.</summary>
    private async Task<Dictionary<string, GroupPayments?>> ReadGroupsAsync(IEnumerable<string> groupIds)
    {
        var groups = new Dictionary<string, GroupPayments?>(StringComparer.Ordinal);
        foreach (var chunk in groupIds.Chunk(options.Value.Parallelism))
        {
            var read = await Task.WhenAll(chunk.Select(async id => (id, payments: await ReadGroupAsync(id))));
            foreach (var (id, payments) in read)
            {
                groups[id] = payments;
            }
        }
        return groups;
    }

    private async Task<GroupPayments?> ReadGroupAsync(string groupId)
    {
        try
        {
            return await GrainFactory.GetGrain<IOrderGrain>(groupId).GetPaymentsAsync();
        }
        catch (UnknownGroupException)
        {
            return null;
        }
    }

    /// <summary>Raises an item for each of the first <see cref="ReconciliationReport.MaxLines"/> mismatches and, past
    /// them, one saying how many more there are. Returns the ids raised.</summary>
    private async Task<List<string>> RaiseItemsAsync(DateOnly day, IReadOnlyList<ReconciliationMismatch> mismatches, DateTimeOffset now)
    {
        var raised = new List<string>();
        var tried = new[] { $"reconciliation of {Key(day)} against WeChat's bill" };
        foreach (var mismatch in mismatches.DistinctBy(m => ReconciliationItems.IdOf(day, m)).Take(ReconciliationReport.MaxLines))
        {
            var itemId = ReconciliationItems.IdOf(day, mismatch);
            await Queue.RaiseAsync(new OperatorItemReport(itemId, OperatorItemKind.ReconciliationMismatch, mismatch.GroupId, mismatch.OutTradeNo,
                mismatch.BillFen ?? mismatch.GroupPayFen ?? 0, mismatch.Summary, LastAnswer(mismatch), tried, now));
            raised.Add(itemId);
        }
        if (mismatches.Count > ReconciliationReport.MaxLines)
        {
            var itemId = $"recon:{Key(day)}:more";
            await Queue.RaiseAsync(new OperatorItemReport(itemId, OperatorItemKind.ReconciliationMismatch, null, null, 0,
                $"{mismatches.Count} mismatches on {Key(day)}: items were raised for the first {ReconciliationReport.MaxLines} only; see GET /admin/reconciliation/{Key(day)}.",
                null, tried, now));
            raised.Add(itemId);
        }
        return raised;
    }

    private static string LastAnswer(ReconciliationMismatch mismatch) =>
        $"bill: {mismatch.BillStatus ?? "-"} {Fen(mismatch.BillFen)}; GroupPay: {mismatch.GroupPayStatus ?? "-"} {Fen(mismatch.GroupPayFen)}";

    private static string Fen(long? fen) => fen is { } value ? value.ToString(CultureInfo.InvariantCulture) + " fen" : "none";

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciled {Day}: {Lines} bill lines, {Mismatches} mismatches")]
    private static partial void LogReconciled(ILogger logger, DateOnly day, int lines, int mismatches);
}
