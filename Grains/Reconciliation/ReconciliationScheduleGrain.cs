using System.Globalization;
using GroupPay.Grains.Operations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GroupPay.Grains.Reconciliation;

/// <summary>
/// The daily schedule (key 0). A reminder every <see cref="ReconciliationOptions.CheckEvery"/> reconciles, oldest first,
/// each of the last <see cref="ReconciliationOptions.CatchUpDays"/> China-time days that is not reconciled yet and whose
/// bill is due (the next day at <see cref="ReconciliationOptions.RunAfter"/>, China time). A bill WeChat is still making,
/// or a failure, is tried again on the next round; a day still not reconciled at the next day's
/// <see cref="ReconciliationOptions.GiveUpAfter"/> is raised as an item (<c>recon:{day}:bill-unavailable</c>), still
/// tried, and settled once it is reconciled. The state holds the window's days only.
/// </summary>
[GrainType("reconciliation-schedule")]
public sealed partial class ReconciliationScheduleGrain(
    [PersistentState("schedule", GrainStorage.Name)] IPersistentState<ReconciliationScheduleState> state,
    TimeProvider timeProvider,
    IOptions<ReconciliationOptions> options,
    ILogger<ReconciliationScheduleGrain> logger) : Grain, IReconciliationScheduleGrain, IRemindable
{
    private const string ReminderName = "daily-reconciliation";

    private ReconciliationScheduleState State => state.State;

    private ReconciliationOptions Options => options.Value;

    public async Task StartAsync()
    {
        await this.RegisterOrUpdateReminder(ReminderName, TimeSpan.FromMinutes(1), Options.CheckEvery);
        if (State.StartedAt is null)
        {
            State.StartedAt = timeProvider.GetUtcNow();
            await state.WriteOrReloadAsync(this);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ReminderName && Options.Enabled)
        {
            await TickAsync();
        }
    }

    public Task<ReconciliationSchedule> GetAsync() => Task.FromResult(View());

    public async Task<ReconciliationSchedule> TickAsync()
    {
        var now = timeProvider.GetUtcNow();
        var today = BillReconciler.DayOf(now);
        var oldest = today.AddDays(-Options.CatchUpDays);
        State.Reconciled.RemoveAll(d => d < oldest);
        State.Pending.RemoveAll(d => d.Day < oldest);
        for (var day = oldest; day < today; day = day.AddDays(1))
        {
            if (State.Reconciled.Contains(day) || now < NextDayAt(day, Options.RunAfter))
            {
                continue;
            }
            await RunDayAsync(day, now);
        }
        await state.WriteOrReloadAsync(this);
        return View();
    }

    private async Task RunDayAsync(DateOnly day, DateTimeOffset now)
    {
        var pending = State.Pending.Find(d => d.Day == day);
        try
        {
            await GrainFactory.GetGrain<IReconciliationGrain>(Key(day)).RunAsync();
            State.Reconciled.Add(day);
            if (pending is not null)
            {
                State.Pending.Remove(pending);
                if (pending.Escalated)
                {
                    await Queue.SettleAsync(UnavailableItemId(day), $"Reconciled at {now:u}.");
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (pending is null)
            {
                pending = new ScheduledDayRecord { Day = day };
                State.Pending.Add(pending);
            }
            pending.Tries++;
            pending.LastAnswer = ex is GroupPayException refusal ? $"{refusal.Code}: {refusal.Message}" : ex.GetType().Name + ": " + ex.Message;
            if (pending.LastAnswer.Length > 500)
            {
                pending.LastAnswer = pending.LastAnswer[..500];
            }
            LogNotReconciled(logger, ex, day, pending.Tries);
            if (now >= NextDayAt(day, Options.GiveUpAfter))
            {
                // Reported again each round while it lasts (the queue counts repeats), so the last answer stays current.
                await Queue.RaiseAsync(new OperatorItemReport(UnavailableItemId(day), OperatorItemKind.ReconciliationMismatch, null, null, 0,
                    $"The bill of {Key(day)} could not be reconciled by {NextDayAt(day, Options.GiveUpAfter):u} ({pending.Tries} tries); still trying every {Options.CheckEvery}.",
                    pending.LastAnswer, [$"reconciliation of {Key(day)}, {pending.Tries} tries"], now));
                pending.Escalated = true;
            }
        }
    }

    private IOperatorQueueGrain Queue => GrainFactory.GetGrain<IOperatorQueueGrain>(0);

    public static string UnavailableItemId(DateOnly day) => $"recon:{Key(day)}:bill-unavailable";

    /// <summary>The day after <paramref name="day"/> at <paramref name="timeOfDay"/>, China time (past 24 h: the day after that).</summary>
    public static DateTimeOffset NextDayAt(DateOnly day, TimeSpan timeOfDay) => BillReconciler.StartOf(day.AddDays(1)) + timeOfDay;

    private static string Key(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private ReconciliationSchedule View() => new(
        [.. State.Reconciled.Order()],
        [.. State.Pending.OrderBy(d => d.Day).Select(d => new ScheduledDay(d.Day, d.Tries, d.LastAnswer, d.Escalated))],
        State.StartedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The reconciliation of {Day} did not run (try {Tries}); it is tried again on the next round")]
    private static partial void LogNotReconciled(ILogger logger, Exception exception, DateOnly day, int tries);
}
