using GroupPay.Client;
using GroupPay.Samples.FulfilmentWorker;
using Microsoft.Extensions.Hosting;

// ConnectionStrings__Redis, Orleans__ClusterId and Orleans__ServiceId name the cluster (docs/clients.md);
// Fulfilment__PollInterval how often the feed is read.
var builder = Host.CreateApplicationBuilder(args);
builder.AddGroupPayClient();
builder.Services.AddFulfilment();
await builder.Build().RunAsync();
