namespace GroupPay.Grains.Campaigns;

[GrainType("campaign")]
public sealed class CampaignGrain(
    [PersistentState("campaign", GrainStorage.Name)] IPersistentState<CampaignState> state,
    TimeProvider timeProvider) : Grain, ICampaignGrain
{
    private static readonly TimeSpan SalesWriteDelay = TimeSpan.FromSeconds(5);

    private bool _unsavedSales;
    private IGrainTimer? _salesTimer;

    private CampaignState State => state.State;

    public async Task<CampaignView> DefineAsync(CampaignDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (definition.Validate() is { } problem)
        {
            throw new InvalidCampaignException(problem);
        }
        var isNew = State.Definition is null;
        State.Definition = definition;
        await WriteAsync();
        if (isNew)
        {
            await GrainFactory.GetGrain<ICampaignCatalogGrain>(0).AddAsync(this.GetPrimaryKeyString());
        }
        return View(definition);
    }

    public Task<CampaignView?> GetAsync() =>
        Task.FromResult(State.Definition is { } definition ? View(definition) : null);

    public async Task ReserveAsync(string reservationId, string openid)
    {
        ArgumentException.ThrowIfNullOrEmpty(reservationId);
        ArgumentException.ThrowIfNullOrEmpty(openid);
        var definition = State.Definition ?? throw new UnknownCampaignException(this.GetPrimaryKeyString());
        if (State.Reservations.TryGetValue(reservationId, out var existing) && existing.Openid == openid)
        {
            return;
        }
        // An id can come back for someone else when the order that reserved it failed to store the hold: the unit then
        // moves to the new holder, and counts against their limit, not the first one's.
        if (!IsActive(definition))
        {
            throw new CampaignClosedException("The campaign is not active.");
        }
        if (existing is null && State.Reservations.Count >= definition.Stock)
        {
            throw new CampaignClosedException("The campaign is sold out.");
        }
        if (State.Reservations.Values.Count(r => r.Openid == openid) >= definition.PerUserLimit)
        {
            throw new CampaignClosedException($"At most {definition.PerUserLimit} per user.");
        }
        State.Reservations[reservationId] = new StockReservation(openid, Sold: false);
        await WriteAsync();
    }

    /// <summary>
    /// Marks a reservation sold. Stock accounting does not depend on it (a unit is taken from reserve to release
    /// either way), so the mark is written behind: with the campaign's next write, by a timer, or at deactivation,
    /// instead of rewriting every reservation on each sale of the notify path. A crash can only lose the
    /// reserved/sold split of the view, never a unit.
    /// </summary>
    public Task ConfirmAsync(string reservationId)
    {
        if (State.Reservations.TryGetValue(reservationId, out var reservation) && !reservation.Sold)
        {
            State.Reservations[reservationId] = reservation with { Sold = true };
            _unsavedSales = true;
            _salesTimer ??= this.RegisterGrainTimer(SaveSalesAsync, new GrainTimerCreationOptions
            {
                DueTime = SalesWriteDelay,
                Period = SalesWriteDelay,
            });
        }
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await SaveSalesAsync(cancellationToken);
        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    private async Task SaveSalesAsync(CancellationToken cancellationToken)
    {
        if (_unsavedSales)
        {
            await WriteAsync();
        }
    }

    private async Task WriteAsync()
    {
        await state.WriteOrReloadAsync(this);
        _unsavedSales = false;
    }

    public async Task ReleaseAsync(string reservationId)
    {
        if (State.Reservations.Remove(reservationId))
        {
            await WriteAsync();
        }
    }

    private bool IsActive(CampaignDefinition definition)
    {
        var now = timeProvider.GetUtcNow();
        return (definition.ActiveFrom is not { } from || now >= from) && (definition.ActiveUntil is not { } until || now < until);
    }

    private CampaignView View(CampaignDefinition definition)
    {
        var sold = State.Reservations.Values.Count(r => r.Sold);
        return new CampaignView(this.GetPrimaryKeyString(), definition, State.Reservations.Count - sold, sold, IsActive(definition));
    }
}

[GrainType("campaign-catalog")]
public sealed class CampaignCatalogGrain(
    [PersistentState("catalog", GrainStorage.Name)] IPersistentState<CampaignCatalogState> state) : Grain, ICampaignCatalogGrain
{
    public async Task AddAsync(string campaignId)
    {
        if (state.State.CampaignIds.Add(campaignId))
        {
            await state.WriteOrReloadAsync(this);
        }
    }

    public Task<IReadOnlyList<string>> ListAsync() =>
        Task.FromResult<IReadOnlyList<string>>([.. state.State.CampaignIds.Order(StringComparer.Ordinal)]);
}

[GenerateSerializer, Alias("grouppay.CampaignCatalogState")]
public sealed class CampaignCatalogState
{
    [Id(0)] public HashSet<string> CampaignIds { get; set; } = [];
}
