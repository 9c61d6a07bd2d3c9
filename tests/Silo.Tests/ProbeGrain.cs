using GroupPay.Grains;

namespace GroupPay.Silo.Tests;

/// <summary>A grain that exercises exactly the wiring under test: state in <see cref="GrainStorage.Name"/>, one reminder.</summary>
[Alias("grouppay.tests.IProbeGrain")]
public interface IProbeGrain : IGrainWithStringKey
{
    [Alias("SaveAsync")]
    Task SaveAsync(string text);

    [Alias("LoadAsync")]
    Task<ProbeState> LoadAsync();

    [Alias("RemindOnceAsync")]
    Task RemindOnceAsync(TimeSpan dueTime);
}

[GenerateSerializer, Alias("grouppay.tests.ProbeState")]
public sealed class ProbeState
{
    [Id(0)] public string? Text { get; set; }

    [Id(1)] public int Reminders { get; set; }
}

[GrainType("probe")]
public sealed class ProbeGrain([PersistentState("probe", GrainStorage.Name)] IPersistentState<ProbeState> state) : Grain, IProbeGrain, IRemindable
{
    private const string ReminderName = "once";

    public async Task SaveAsync(string text)
    {
        state.State.Text = text;
        await state.WriteStateAsync();
    }

    public Task<ProbeState> LoadAsync() => Task.FromResult(state.State);

    public Task RemindOnceAsync(TimeSpan dueTime) =>
        this.RegisterOrUpdateReminder(ReminderName, dueTime, TimeSpan.FromMinutes(1));

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Reminders++;
        await state.WriteStateAsync();
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }
}
