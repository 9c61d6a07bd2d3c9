// The gateway host. The H5 API, the WeChat Pay notify endpoints and the Orleans client arrive with
// issue 4; until then it only answers the liveness probe.
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/health/live", () => TypedResults.Ok("live"));
app.Run();
